//! `concord-draw-sim [TRIALS]`: prints the Monte-Carlo table of the draw and settlement
//! (`concord_bench::draw_sim`) as markdown, for `docs/security.md`.
fn main() {
    let trials = std::env::args()
        .nth(1)
        .and_then(|t| t.parse().ok())
        .unwrap_or(100_000);
    println!("{}", concord_bench::draw_sim::table(trials));
}
