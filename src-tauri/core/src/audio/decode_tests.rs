use super::*;

fn wav(samples: &[i16], rate: u32, channels: u16) -> Vec<u8> {
    let spec = hound::WavSpec { channels, sample_rate: rate, bits_per_sample: 16, sample_format: hound::SampleFormat::Int };
    let mut c = Cursor::new(Vec::new());
    let mut w = hound::WavWriter::new(&mut c, spec).unwrap();
    samples.iter().for_each(|&s| w.write_sample(s).unwrap());
    w.finalize().unwrap();
    c.into_inner()
}

#[test]
fn pcm_survives_odd_splits_and_flags_a_half_sample() {
    let samples: Vec<i16> = (0..1000).map(|i| (i * 37 - 9000) as i16).collect();
    let bytes: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
    for piece in [1, 3, 7, 1001] {
        let mut d = PcmBytes::default();
        let got: Vec<i16> = bytes.chunks(piece).flat_map(|c| d.push(c)).collect();
        assert_eq!(got, samples);
        assert_eq!(d.finish(), Ok(()));
    }
    let mut d = PcmBytes::default();
    d.push(&bytes[..11]);
    assert_eq!(d.finish(), Err(DecodeError::Truncated));
}

#[test]
fn wav_streams_after_its_header_and_mixes_down() {
    let samples: Vec<i16> = (0..2000).map(|i| (i * 13) as i16).collect();
    let bytes = wav(&samples, 22_050, 1);
    for piece in [1, 5, 64, 5000] {
        let mut d = WavStream::default();
        let got: Vec<i16> = bytes.chunks(piece).flat_map(|c| d.push(c).unwrap()).collect();
        assert_eq!(got, samples);
        assert_eq!(d.sample_rate(), Some(22_050));
        assert_eq!(d.finish(), Ok(()));
    }
    let stereo: Vec<i16> = samples.iter().flat_map(|&s| [s, s.wrapping_add(2)]).collect();
    let mut d = WavStream::default();
    let got = d.push(&wav(&stereo, 48_000, 2)).unwrap();
    assert_eq!(got.len(), samples.len());
    assert_eq!(got[10], samples[10] + 1);
}

#[test]
fn a_cut_or_foreign_wav_is_an_error() {
    let bytes = wav(&vec![100i16; 1000], 24_000, 1);
    let mut d = WavStream::default();
    d.push(&bytes[..bytes.len() / 2]).unwrap();
    assert_eq!(d.finish(), Err(DecodeError::Truncated));
    let mut d = WavStream::default();
    assert!(matches!(d.push(b"OggS\0\0\0\0garbage....."), Err(DecodeError::BadWav(_))));
}

#[test]
fn mp3_and_opus_from_the_testkit_decode_to_their_length() {
    let samples = sori_testkit::audio::synthesize("안녕하세요, 소리입니다.", "coral", 1.0);
    let mp3 = sori_testkit::audio::encode(&samples, sori_testkit::audio::AudioFormat::Mp3).unwrap();
    let (decoded, rate) = decode_mp3(mp3).unwrap();
    assert_eq!(rate, 24_000);
    assert!(decoded.len().abs_diff(samples.len()) < 3 * 1152, "{} vs {}", decoded.len(), samples.len());
    let opus = sori_testkit::audio::encode(&samples, sori_testkit::audio::AudioFormat::Opus).unwrap();
    let (decoded, _) = decode_ogg_opus(opus).unwrap();
    assert!(decoded.len().abs_diff(samples.len()) < 960, "{} vs {}", decoded.len(), samples.len());
    assert!(decode_ogg_opus(b"not ogg at all".to_vec()).is_err());
    assert!(decode_mp3(b"not mp3 at all".to_vec()).is_err());
}
