//! Spoken calls that need no internet (R3): where the display's browser has no Chinese voice,
//! the server speaks. It synthesises "请 A012 号到 3 号窗口办理" and the English call offline
//! with espeak-ng (Debian package `espeak-ng`) and keeps each clip in memory; only ticket and
//! window numbers are ever spoken.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::time::Duration;

use crate::i18n::Lang;

#[derive(Debug, thiserror::Error)]
pub enum VoiceError {
    #[error("not a ticket or window number")]
    BadInput,
    #[error("the speech synthesiser is not installed (Debian package espeak-ng)")]
    Unavailable,
    #[error("speech synthesis failed: {0}")]
    Failed(String),
}

/// The words of a call; `None` unless the number is a ticket number (letter + digits) and the
/// window a window number, so nothing else can be made to speak.
pub fn call_text(lang: Lang, number: &str, window: i64) -> Option<String> {
    let mut chars = number.chars();
    let letter = chars.next().filter(|c| c.is_ascii_uppercase())?;
    let digits: String = chars.collect();
    if digits.is_empty()
        || digits.len() > 5
        || !digits.chars().all(|c| c.is_ascii_digit())
        || !(1..=999).contains(&window)
    {
        return None;
    }
    let spaced: Vec<String> = std::iter::once(letter)
        .chain(digits.chars())
        .map(String::from)
        .collect();
    Some(match lang {
        Lang::ZhCn => format!("请 {} 号，到 {window} 号窗口办理", spaced.join(" ")),
        Lang::En => format!("Number {}, please go to window {window}", spaced.join(" ")),
    })
}

static CLIPS: LazyLock<Mutex<HashMap<String, Arc<Vec<u8>>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// A WAV clip of the call in `lang`.
pub async fn clip(lang: Lang, number: &str, window: i64) -> Result<Arc<Vec<u8>>, VoiceError> {
    let text = call_text(lang, number, window).ok_or(VoiceError::BadInput)?;
    speak(lang, text).await
}

/// What a kiosk says (issue 14 §1), when its device has spoken prompts on: fixed sentences
/// only, so nothing a citizen typed is ever spoken aloud in the hall.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prompt {
    Welcome,
    PlaceIdCard,
    PlacePermit,
    ChooseEndorsement,
    ScanToPay,
    TakeTicket,
    TakeCard,
    GoToWindow,
    FillForm,
    IdleWarning,
}

impl Prompt {
    pub const ALL: [Prompt; 10] = [
        Prompt::Welcome,
        Prompt::PlaceIdCard,
        Prompt::PlacePermit,
        Prompt::ChooseEndorsement,
        Prompt::ScanToPay,
        Prompt::TakeTicket,
        Prompt::TakeCard,
        Prompt::GoToWindow,
        Prompt::FillForm,
        Prompt::IdleWarning,
    ];
    pub fn code(self) -> &'static str {
        match self {
            Prompt::Welcome => "welcome",
            Prompt::PlaceIdCard => "place-id-card",
            Prompt::PlacePermit => "place-permit",
            Prompt::ChooseEndorsement => "choose-endorsement",
            Prompt::ScanToPay => "scan-to-pay",
            Prompt::TakeTicket => "take-ticket",
            Prompt::TakeCard => "take-card",
            Prompt::GoToWindow => "go-to-window",
            Prompt::FillForm => "fill-form",
            Prompt::IdleWarning => "idle-warning",
        }
    }
    pub fn parse(s: &str) -> Option<Prompt> {
        Prompt::ALL.into_iter().find(|p| p.code() == s)
    }
    pub fn text(self, lang: Lang) -> &'static str {
        match self {
            Prompt::Welcome => lang.pick(
                "欢迎使用自助服务，请点击屏幕选择业务",
                "Welcome. Touch the screen to choose a service",
            ),
            Prompt::PlaceIdCard => lang.pick(
                "请将身份证放在读卡区",
                "Please place your ID card on the reader",
            ),
            Prompt::PlacePermit => lang.pick(
                "请将通行证平放在读卡区，并正视摄像头",
                "Please lay your permit flat on the reader and look at the camera",
            ),
            Prompt::ChooseEndorsement => {
                lang.pick("请选择签注种类和次数", "Please choose the endorsement")
            }
            Prompt::ScanToPay => lang.pick(
                "请用手机扫描二维码缴费",
                "Please scan the code with your phone to pay",
            ),
            Prompt::TakeTicket => lang.pick(
                "请取走号票，留意叫号",
                "Please take your ticket and listen for your number",
            ),
            Prompt::TakeCard => {
                lang.pick("办理完成，请取回您的证件", "Done. Please take your permit")
            }
            Prompt::GoToWindow => lang.pick("请到人工窗口办理", "Please go to a service window"),
            Prompt::FillForm => lang.pick(
                "请按屏幕提示逐项填写",
                "Please fill in the form step by step",
            ),
            Prompt::IdleWarning => lang.pick("即将返回首页", "Returning to the start"),
        }
    }
}

/// A WAV clip of a kiosk prompt in `lang`.
pub async fn prompt_clip(lang: Lang, prompt: Prompt) -> Result<Arc<Vec<u8>>, VoiceError> {
    speak(lang, prompt.text(lang).to_string()).await
}

/// Synthesises `text` (only ever one of our fixed sentences or a call) with espeak-ng, once
/// per text: the clip is kept in memory.
async fn speak(lang: Lang, text: String) -> Result<Arc<Vec<u8>>, VoiceError> {
    let key = format!("{}|{text}", lang.code());
    if let Some(c) = CLIPS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&key)
    {
        return Ok(c.clone());
    }
    let voice = match lang {
        Lang::ZhCn => "cmn",
        Lang::En => "en-us",
    };
    let file = std::env::temp_dir().join(format!(
        "onetrip-voice-{}.wav",
        &crate::crypto::random_token()[..16]
    ));
    let run = tokio::process::Command::new("espeak-ng")
        .args(["-v", voice, "-s", "140", "-w"])
        .arg(&file)
        .arg(&text)
        .kill_on_drop(true)
        .status();
    let status = match tokio::time::timeout(Duration::from_secs(10), run).await {
        Err(_) => return Err(VoiceError::Failed("timed out".into())),
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(VoiceError::Unavailable);
        }
        Ok(Err(e)) => return Err(VoiceError::Failed(e.to_string())),
        Ok(Ok(s)) => s,
    };
    let bytes = tokio::fs::read(&file).await;
    let _ = tokio::fs::remove_file(&file).await;
    if !status.success() {
        return Err(VoiceError::Failed(format!(
            "espeak-ng exited with {status}"
        )));
    }
    let bytes = Arc::new(bytes.map_err(|e| VoiceError::Failed(e.to_string()))?);
    let mut clips = CLIPS.lock().unwrap_or_else(PoisonError::into_inner);
    // A day's calls are a few thousand clips of ~100 KB; start afresh rather than grow forever.
    if clips.len() > 2_000 {
        clips.clear();
    }
    clips.insert(key, bytes.clone());
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_ticket_and_window_numbers_are_spoken() {
        assert_eq!(
            call_text(Lang::ZhCn, "A012", 3).as_deref(),
            Some("请 A 0 1 2 号，到 3 号窗口办理")
        );
        assert_eq!(
            call_text(Lang::En, "C001", 12).as_deref(),
            Some("Number C 0 0 1, please go to window 12")
        );
        for bad in [
            "",
            "a012",
            "A",
            "A01B",
            "A0123456",
            "A012; rm -rf /",
            "张三",
        ] {
            assert_eq!(call_text(Lang::ZhCn, bad, 3), None, "{bad}");
        }
        assert_eq!(call_text(Lang::ZhCn, "A012", 0), None);
    }
}
