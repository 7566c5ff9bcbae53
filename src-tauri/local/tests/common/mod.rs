//! What the local-engine tests share: the fixture models, speech made with
//! espeak-ng, word error rate.

#![allow(dead_code)]

use std::process::Command;

pub use sori_testkit::fixtures::model as fixture_model;

/// `text` spoken by espeak-ng's `voice`, as 16 kHz mono floats (sox resamples).
pub fn espeak_16k(text: &str, voice: &str) -> Vec<f32> {
    let script = format!("espeak-ng -v {voice} --stdout \"$0\" | sox -q -t wav - -t raw -r 16000 -e signed -b 16 -c 1 -");
    let out = Command::new("bash").args(["-c", &script, text]).output().expect("espeak-ng and sox");
    assert!(out.status.success() && !out.stdout.is_empty(), "espeak-ng | sox failed: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout.chunks_exact(2).map(|b| i16::from_le_bytes([b[0], b[1]]) as f32 / 32768.0).collect()
}

/// Lowercase words without punctuation.
pub fn words(text: &str) -> Vec<String> {
    text.split_whitespace()
        .map(|w| w.chars().filter(|c| c.is_alphanumeric() || *c == '\'').collect::<String>().to_lowercase())
        .filter(|w| !w.is_empty())
        .collect()
}

/// Word-level edit distance: substitutions, insertions and deletions.
pub fn word_errors(reference: &[String], heard: &[String]) -> usize {
    let mut row: Vec<usize> = (0..=heard.len()).collect();
    for (i, r) in reference.iter().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, h) in heard.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(r != h)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[heard.len()]
}
