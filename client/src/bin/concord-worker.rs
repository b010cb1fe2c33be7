fn main() {
    std::process::exit(concord_client::executor::worker_main())
}
