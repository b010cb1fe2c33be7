//! Concord's benchmarks and simulations. The binaries: `concord-bench` (executor against CPU
//! references), `concord-agent-bench` (agents on a local chain), `concord-draw-sim` (the
//! Monte-Carlo table of the draw, [`draw_sim`]).
pub mod draw_sim;
