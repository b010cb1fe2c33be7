fn main() {
    std::process::exit(concord_client::cli::main())
}
