fn main() {
    std::process::exit(concord_compute::executor::worker_main())
}
