//! `POST /audio/speech`: model, voice, style `instructions` (only where the
//! model supports them), speed and format. `pcm` (the default) and `wav` are
//! decoded and yielded as their bytes arrive; `mp3` and `opus` are decoded
//! once the whole file is in, for servers that offer nothing else.

use super::OpenAi;
use crate::audio::decode::{decode_mp3, decode_ogg_opus, DecodeError, PcmBytes, WavStream, PCM_RATE};
use crate::provider::{AudioFormat, Pcm, ProviderError, ProviderStream, SpeechRequest, TextToSpeech};
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
        Ok(decoded_audio(self.clone(), Box::pin(response.bytes_stream()), request.format))
    }
}

type Body = std::pin::Pin<Box<dyn futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>;

enum Decoder {
    Pcm(PcmBytes),
    Wav(WavStream),
    Whole(AudioFormat, Vec<u8>),
    Finished,
}

/// Turns the body into decoded audio pieces, ending with an error if the
/// connection breaks or the audio is cut or corrupt.
fn decoded_audio(client: OpenAi, body: Body, format: AudioFormat) -> ProviderStream<Pcm> {
    let decoder = match format {
        AudioFormat::Pcm => Decoder::Pcm(PcmBytes::default()),
        AudioFormat::Wav => Decoder::Wav(WavStream::default()),
        other => Decoder::Whole(other, Vec::new()),
    };
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
            let bytes = match next {
                Ok(b) => b,
                Err(e) => {
                    let error = client.transport_error(&e);
                    return Some((Err(error), (client, body, Decoder::Finished)));
                }
            };
            client.count_down(bytes.len());
            let decoded = match &mut decoder {
                Decoder::Pcm(d) => Ok(Some(Pcm { samples: d.push(&bytes), sample_rate: PCM_RATE })),
                Decoder::Wav(d) => d.push(&bytes).map(|s| Some(Pcm { samples: s, sample_rate: d.sample_rate().unwrap_or(PCM_RATE) })),
                Decoder::Whole(_, all) => {
                    all.extend_from_slice(&bytes);
                    Ok(None)
                }
                Decoder::Finished => Ok(None),
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
        Decoder::Finished => Ok(None),
    }
}
