//! How long a turn-based benchmark runs: in full under `cargo bench` (or
//! `cargo test --bench X -- --bench`), a short form under `cargo test` so it
//! cannot rot; `--turns N` overrides either.

/// Whether this is the full run, and how many turns it takes.
pub fn run_length(full_turns: usize, short_turns: usize) -> (bool, usize) {
    let args: Vec<String> = std::env::args().collect();
    let full = args.iter().any(|a| a == "--bench");
    let turns = args.iter().position(|a| a == "--turns").and_then(|i| args.get(i + 1)).and_then(|n| n.parse().ok());
    (full, turns.unwrap_or(if full { full_turns } else { short_turns }))
}
