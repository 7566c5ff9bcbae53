//! Lists the system's input and output sound devices, with the defaults marked,
//! for the settings panel and for diagnostics ("is a microphone there at all?").

use cpal::traits::{DeviceTrait, HostTrait};
use serde::Serialize;

/// One sound device as the user sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AudioDevice {
    /// Stable identifier to store in settings (host + device id); `None` when
    /// the backend cannot give one.
    pub id: Option<String>,
    /// Human-readable name.
    pub name: String,
    /// Whether this is the system's current default for its direction.
    pub is_default: bool,
    /// The system says it is worn (headphones, a headset, an earpiece), or
    /// its name does: no echo reaches the microphone from it.
    pub worn: bool,
}

/// Input and output devices of the default host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceList {
    /// Name of the audio host (ALSA, CoreAudio, WASAPI, …).
    pub host: String,
    pub inputs: Vec<AudioDevice>,
    pub outputs: Vec<AudioDevice>,
}

/// Why the devices could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    #[error("the audio system could not list devices: {0}")]
    Backend(#[from] cpal::Error),
}

/// Lists the devices of the default host.
///
/// A device that vanishes while it is being described is left out rather than
/// failing the whole list: unplugging a headset must not break the settings panel.
pub fn list_devices() -> Result<DeviceList, DeviceError> {
    let host = cpal::default_host();
    let default_in = host.default_input_device().and_then(|d| d.id().ok());
    let default_out = host.default_output_device().and_then(|d| d.id().ok());
    let describe = |devices: &mut dyn Iterator<Item = cpal::Device>, default: &Option<cpal::DeviceId>| {
        devices
            .filter_map(|d| {
                let id = d.id().ok();
                let description = d.description().ok()?;
                let name = description.name().to_string();
                let is_default = id.is_some() && id == *default;
                let worn = is_worn(description.device_type(), &name);
                Some(AudioDevice { id: id.map(|i| i.to_string()), name, is_default, worn })
            })
            .collect::<Vec<_>>()
    };
    Ok(DeviceList {
        host: host.id().name().to_string(),
        inputs: describe(&mut host.input_devices()?, &default_in),
        outputs: describe(&mut host.output_devices()?, &default_out),
    })
}

/// Whether a device sits on the user's head: by the type the system gives,
/// else by its name (many backends give no type).
pub fn is_worn(kind: cpal::DeviceType, name: &str) -> bool {
    use cpal::DeviceType as T;
    if matches!(kind, T::Headphones | T::Headset | T::Earpiece | T::Handset | T::HearingAid) {
        return true;
    }
    let name = name.to_lowercase();
    ["headset", "headphone", "earphone", "earbud", "airpods", "buds", "헤드셋", "헤드폰", "이어폰"].iter().any(|w| name.contains(w))
}

/// Whether the output Sori plays on (`id`, or the default) is worn.
pub fn output_is_worn(id: Option<&str>) -> bool {
    list_devices()
        .ok()
        .and_then(|l| l.outputs.into_iter().find(|d| if id.is_some() { d.id.as_deref() == id } else { d.is_default }))
        .is_some_and(|d| d.worn)
}

/// A device that stream-following left for a new default. An unplugged
/// default is replaced as default a moment before it leaves the device list,
/// so a watcher can see "the default changed" first and follow it without
/// ever seeing the device gone. Kept for a while after the switch so that its
/// disappearance is still reported as a loss, not as a plain switch.
pub(crate) struct LeftBehind {
    id: String,
    pub name: String,
    since: std::time::Instant,
}

impl LeftBehind {
    const WATCH: std::time::Duration = std::time::Duration::from_secs(3);

    pub fn new(id: Option<String>, name: String) -> Option<LeftBehind> {
        id.map(|id| LeftBehind { id, name, since: std::time::Instant::now() })
    }

    /// Given the ids listed now: `Some(true)` when the device has gone (report
    /// it), `Some(false)` when it is still there after the watch (forget it),
    /// `None` while the watch goes on.
    pub fn gone(&self, listed: &[Option<String>]) -> Option<bool> {
        if !listed.iter().any(|l| l.as_deref() == Some(&self.id)) {
            Some(true)
        } else if self.since.elapsed() > Self::WATCH {
            Some(false)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::LeftBehind;

    #[test]
    fn a_left_device_is_reported_only_once_it_leaves_the_list() {
        let left = LeftBehind::new(Some("mic".into()), "Mic".into()).unwrap();
        assert_eq!(left.gone(&[Some("mic".into()), Some("other".into())]), None);
        assert_eq!(left.gone(&[Some("other".into()), None]), Some(true));
        assert!(LeftBehind::new(None, "no id".into()).is_none());
    }
}
