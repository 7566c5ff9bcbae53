//! `POST /audio/speech`: model, voice, style `instructions` (only where the
//! model supports them), speed and format. `pcm` (the default) and `wav` are
//! decoded and yielded as their bytes arrive; `mp3` and `opus` are decoded
//! once the whole file is in. What arrives is recognised by its `Content-Type`
//! and first bytes, not assumed from the request: some servers make only one
//! format, whatever is asked.

use super::OpenAi;
use crate::audio::decode::{decode_mp3, decode_ogg_opus, DecodeError, PcmBytes, WavStream};
use crate::audio::{Pcm, PCM_RATE};
use crate::provider::{AudioFormat, ProviderError, ProviderStream, SpeechRequest, TextToSpeech};
use async_trait::async_trait;
use futures_util::StreamExt;
use serde_json::json;

/// Whether `model` takes style `instructions` (`tts-1` and `tts-1-hd` do not).
pub fn supports_instructions(model: &str) -> bool {
    !model.starts_with("tts-1")
}

fn format_name(f: AudioFormat) -> &'static str {
    match f {
        AudioFormat::Pcm => "pcm",
        AudioFormat::Wav => "wav",
        AudioFormat::Mp3 => "mp3",
        AudioFormat::Opus => "opus",
    }
}

fn corrupt(e: DecodeError) -> ProviderError {
    ProviderError::bad_response(e)
}

#[async_trait]
impl TextToSpeech for OpenAi {
    async fn synthesize(&self, request: SpeechRequest<'_>) -> Result<ProviderStream<Pcm>, ProviderError> {
        let mut body = json!({
            "model": request.model,
            "input": request.text,
            "voice": request.voice,
            "response_format": format_name(request.format),
            "speed": request.speed,
        });
        if let Some(style) = request.instructions.filter(|s| !s.trim().is_empty() && supports_instructions(request.model)) {
            body["instructions"] = json!(style);
        }
        let bytes = serde_json::to_vec(&body).expect("a speech request serializes");
        let len = bytes.len();
        let response = self.send(self.post("audio/speech").header("content-type", "application/json").body(bytes), len).await?;
        let declared = response.headers().get("content-type").and_then(|v| v.to_str().ok()).and_then(format_of_content_type);
        Ok(decoded_audio(self.clone(), Box::pin(response.bytes_stream()), declared.unwrap_or(request.format)))
    }
}

type Body = std::pin::Pin<Box<dyn futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>;

enum Decoder {
    /// The format is still to be told from the first bytes (held here meanwhile).
    Sniffing(AudioFormat, Vec<u8>),
    Pcm(PcmBytes),
    Wav(WavStream),
    Whole(AudioFormat, Vec<u8>),
    Finished,
}

/// A format by `Content-Type`; `None` for types that do not say (octet-stream).
fn format_of_content_type(value: &str) -> Option<AudioFormat> {
    let t = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    Some(match t.as_str() {
        "audio/wav" | "audio/x-wav" | "audio/wave" | "audio/vnd.wave" => AudioFormat::Wav,
        "audio/mpeg" | "audio/mp3" => AudioFormat::Mp3,
        "audio/ogg" | "audio/opus" => AudioFormat::Opus,
        "audio/pcm" | "audio/l16" => AudioFormat::Pcm,
        _ => return None,
    })
}

/// A container's magic bytes override any label; raw PCM has none.
fn format_of_bytes(first: &[u8], otherwise: AudioFormat) -> AudioFormat {
    match first {
        [b'R', b'I', b'F', b'F', ..] => AudioFormat::Wav,
        [b'O', b'g', b'g', b'S', ..] => AudioFormat::Opus,
        [b'I', b'D', b'3', ..] => AudioFormat::Mp3,
        [0xFF, b, ..] if b & 0xE0 == 0xE0 && otherwise != AudioFormat::Pcm => AudioFormat::Mp3,
        _ => otherwise,
    }
}

fn decoder_for(format: AudioFormat) -> Decoder {
    match format {
        AudioFormat::Pcm => Decoder::Pcm(PcmBytes::default()),
        AudioFormat::Wav => Decoder::Wav(WavStream::default()),
        other => Decoder::Whole(other, Vec::new()),
    }
}

/// Turns the body into decoded audio pieces, ending with an error if the
/// connection breaks or the audio is cut or corrupt.
fn decoded_audio(client: OpenAi, body: Body, format: AudioFormat) -> ProviderStream<Pcm> {
    let decoder = Decoder::Sniffing(format, Vec::new());
    Box::pin(futures_util::stream::unfold((client, body, decoder), |(client, mut body, mut decoder)| async move {
        loop {
            if matches!(decoder, Decoder::Finished) {
                return None;
            }
            let Some(next) = body.next().await else {
                let ended = finish(&mut decoder);
                decoder = Decoder::Finished;
                return match ended {
                    Ok(Some(pcm)) => Some((Ok(pcm), (client, body, decoder))),
                    Ok(None) => None,
                    Err(e) => Some((Err(e), (client, body, decoder))),
                };
            };
            let mut bytes = match next {
                Ok(b) => b,
                Err(e) => {
                    let error = client.transport_error(&e);
                    return Some((Err(error), (client, body, Decoder::Finished)));
                }
            };
            client.count_down(bytes.len());
            if let Decoder::Sniffing(expected, held) = &mut decoder {
                held.extend_from_slice(&bytes);
                if held.len() < 4 {
                    continue;
                }
                let (expected, held) = (*expected, std::mem::take(held));
                decoder = decoder_for(format_of_bytes(&held, expected));
                bytes = held.into();
            }
            let decoded = match &mut decoder {
                Decoder::Pcm(d) => Ok(Some(Pcm { samples: d.push(&bytes), sample_rate: PCM_RATE })),
                Decoder::Wav(d) => d.push(&bytes).map(|s| Some(Pcm { samples: s, sample_rate: d.sample_rate().unwrap_or(PCM_RATE) })),
                Decoder::Whole(_, all) => {
                    all.extend_from_slice(&bytes);
                    Ok(None)
                }
                Decoder::Finished | Decoder::Sniffing(..) => Ok(None),
            };
            match decoded {
                Ok(Some(pcm)) if !pcm.samples.is_empty() => return Some((Ok(pcm), (client, body, decoder))),
                Ok(_) => continue,
                Err(e) => return Some((Err(corrupt(e)), (client, body, Decoder::Finished))),
            }
        }
    }))
}

/// The body ended: check the audio is whole, and decode what waits for the end.
fn finish(decoder: &mut Decoder) -> Result<Option<Pcm>, ProviderError> {
    match std::mem::replace(decoder, Decoder::Finished) {
        Decoder::Pcm(d) => d.finish().map(|_| None).map_err(corrupt),
        Decoder::Wav(d) => d.finish().map(|_| None).map_err(corrupt),
        Decoder::Whole(format, bytes) => {
            let (samples, sample_rate) = match format {
                AudioFormat::Mp3 => decode_mp3(bytes),
                _ => decode_ogg_opus(bytes),
            }
            .map_err(corrupt)?;
            Ok(Some(Pcm { samples, sample_rate }))
        }
        // A body of under 4 bytes: decode it as what was expected (and fail if it is nothing).
        Decoder::Sniffing(expected, held) => {
            let mut d = decoder_for(expected);
            match &mut d {
                Decoder::Pcm(p) => drop(p.push(&held)),
                Decoder::Wav(w) => drop(w.push(&held).map_err(corrupt)?),
                Decoder::Whole(_, all) => all.extend_from_slice(&held),
                _ => {}
            }
            finish(&mut d)
        }
        Decoder::Finished => Ok(None),
    }
}

/// Voices of `tts-1` and `tts-1-hd`.
const CLASSIC_VOICES: &[&str] = &["alloy", "ash", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer"];
/// Voices of `gpt-4o-mini-tts` and newer models.
const ALL_VOICES: &[&str] = &["alloy", "ash", "ballad", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer", "verse", "marin", "cedar"];

/// The voices a speech model offers; the API has no endpoint that lists them,
/// so this follows OpenAI's reference. Other servers accept names of their
/// own, which the settings take as free text.
pub fn voices_for(model: &str) -> &'static [&'static str] {
    if model.starts_with("tts-1") {
        CLASSIC_VOICES
    } else {
        ALL_VOICES
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_told_by_label_and_by_magic() {
        assert_eq!(format_of_content_type("audio/mpeg"), Some(AudioFormat::Mp3));
        assert_eq!(format_of_content_type("audio/wav; charset=binary"), Some(AudioFormat::Wav));
        assert_eq!(format_of_content_type("application/octet-stream"), None);
        assert_eq!(format_of_bytes(b"RIFF\0\0\0\0WAVE", AudioFormat::Pcm), AudioFormat::Wav);
        assert_eq!(format_of_bytes(b"OggS\0\x02", AudioFormat::Mp3), AudioFormat::Opus);
        assert_eq!(format_of_bytes(b"ID3\x04", AudioFormat::Pcm), AudioFormat::Mp3);
        // Raw PCM can start with any bytes, even an MP3-like sync word.
        assert_eq!(format_of_bytes(&[0xFF, 0xFB, 0, 0], AudioFormat::Pcm), AudioFormat::Pcm);
        assert_eq!(format_of_bytes(&[0xFF, 0xFB, 0, 0], AudioFormat::Mp3), AudioFormat::Mp3);
    }
}
