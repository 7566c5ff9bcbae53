//! espeak-ng speech, through its command line: the voice that is always
//! there (Debian and most Linux systems ship it, with Korean). It writes a
//! WAV to stdout, which Sori plays itself, so playback stays Sori's own
//! (barge-in, the played-sample count, the echo reference).

use crate::LocalError;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// A voice espeak-ng knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EspeakVoice {
    /// The name espeak-ng takes (`ko`, `en-us`).
    pub id: String,
    pub language: String,
    pub name: String,
}

/// The espeak-ng program.
#[derive(Debug, Clone)]
pub struct Espeak {
    program: PathBuf,
}

/// Words per minute at speed 1.0 (espeak-ng's own default).
const BASE_WPM: f32 = 175.0;

impl Espeak {
    /// espeak-ng from `PATH`, if it is installed.
    pub fn find() -> Result<Self, LocalError> {
        Self::at(PathBuf::from("espeak-ng"))
    }

    /// The program at `program`, if it runs.
    pub fn at(program: PathBuf) -> Result<Self, LocalError> {
        let ok = Command::new(&program).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success());
        if ok {
            Ok(Espeak { program })
        } else {
            Err(LocalError::Missing("espeak-ng"))
        }
    }

    /// The voices for `language` (`ko`, `en`), or every voice.
    pub fn voices(&self, language: Option<&str>) -> Result<Vec<EspeakVoice>, LocalError> {
        let mut cmd = Command::new(&self.program);
        cmd.arg(match language {
            Some(l) => format!("--voices={l}"),
            None => "--voices".into(),
        });
        let out = cmd.output().map_err(|e| engine(e.to_string()))?;
        // Columns: Pty Language Age/Gender VoiceName File Other Languages
        Ok(String::from_utf8_lossy(&out.stdout)
            .lines()
            .skip(1)
            .filter_map(|line| {
                let cols: Vec<&str> = line.split_whitespace().collect();
                (cols.len() >= 5).then(|| EspeakVoice { id: cols[1].to_string(), language: cols[1].to_string(), name: cols[3].replace('_', " ") })
            })
            .collect())
    }

    /// The IPA phonemes of `text` as `voice` says them, one line per clause,
    /// with no separators (what Piper voices were trained on).
    pub fn ipa(&self, text: &str, voice: &str) -> Result<String, LocalError> {
        let out = self.run(&["-q", "--ipa", "-v", voice], text)?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    /// espeak-ng with `args`, `text` on stdin: what it wrote to stdout.
    fn run(&self, args: &[&str], text: &str) -> Result<Vec<u8>, LocalError> {
        // Text on stdin, not argv: no length limit, nothing in the process list.
        let mut child = Command::new(&self.program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| engine(e.to_string()))?;
        let mut stdin = child.stdin.take().expect("piped stdin");
        let text = text.to_string();
        let writer = std::thread::spawn(move || stdin.write_all(text.as_bytes()));
        let out = child.wait_with_output().map_err(|e| engine(e.to_string()))?;
        let _ = writer.join();
        if !out.status.success() {
            return Err(engine(String::from_utf8_lossy(&out.stderr).trim().to_string()));
        }
        Ok(out.stdout)
    }

    /// `text` spoken by `voice` at `speed` (1.0 is normal): mono samples and
    /// their rate. Blocks until espeak-ng is done (a clause takes tens of ms).
    pub fn synthesize(&self, text: &str, voice: &str, speed: f32) -> Result<(Vec<i16>, u32), LocalError> {
        let wpm = (BASE_WPM * speed.clamp(0.25, 4.0)).round().clamp(80.0, 450.0) as u32;
        let out = self.run(&["-v", voice, "-s", &wpm.to_string(), "--stdout", "-b", "1"], text)?;
        let reader = hound::WavReader::new(std::io::Cursor::new(out)).map_err(|e| engine(format!("its audio was not a WAV file: {e}")))?;
        let spec = reader.spec();
        if spec.bits_per_sample != 16 || spec.sample_format != hound::SampleFormat::Int {
            return Err(engine(format!("it wrote {}-bit audio", spec.bits_per_sample)));
        }
        let channels = spec.channels.max(1) as usize;
        // espeak-ng writes a streamed WAV whose length fields are 0xFFFFFFFF;
        // hound reads it until the data ends, which is what we want.
        let samples: Vec<i16> = reader.into_samples::<i16>().map_while(Result::ok).step_by(channels).collect();
        Ok((samples, spec.sample_rate))
    }
}

fn engine(reason: String) -> LocalError {
    LocalError::Engine { engine: "espeak-ng", reason }
}
