//! Progress bars and spinners (indicatif) for uploads, downloads and waits; hidden when
//! stderr is not a terminal or the output is JSON.
use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

use super::OutputFormat;

fn visible(output: OutputFormat) -> bool {
    output == OutputFormat::Text && std::io::stderr().is_terminal()
}

/// A bar over `total` items.
pub fn bar(output: OutputFormat, total: u64, what: &str) -> ProgressBar {
    if !visible(output) {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len}")
            .expect("template")
            .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}

/// A spinner with a message, for waits of unknown length.
pub fn spinner(output: OutputFormat, what: &str) -> ProgressBar {
    if !visible(output) {
        return ProgressBar::hidden();
    }
    let s = ProgressBar::new_spinner();
    s.enable_steady_tick(std::time::Duration::from_millis(120));
    s.set_message(what.to_string());
    s
}
