//! The texts that carry the codes, per language, with operator overrides.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::code::{Channel, OtpCode};

/// A supported language: the primary subtag of a BCP 47 tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Language(String);

impl Language {
    /// The first language of `preferences` (a tag or an `Accept-Language`
    /// list, best first) that has texts, else English.
    pub fn choose(preferences: &str, messages: &Messages) -> Self {
        let mut ranked: Vec<(u16, usize, String)> = preferences
            .split(',')
            .enumerate()
            .filter_map(|(i, item)| {
                let mut parts = item.split(';');
                let tag = parts.next()?.trim();
                let primary = tag.split(['-', '_']).next()?.to_ascii_lowercase();
                let q = parts
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .and_then(|q| q.parse::<f32>().ok())
                    .map_or(1000, |q| (q.clamp(0.0, 1.0) * 1000.0) as u16);
                (q > 0 && primary.len() <= 8).then_some((q, i, primary))
            })
            .collect();
        ranked.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let found = ranked.into_iter().map(|(_, _, l)| l).find(|l| messages.texts.contains_key(l));
        Self(found.unwrap_or_else(|| "en".to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The texts of one language; `{code}` and `{minutes}` are filled in.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Texts {
    pub sms: String,
    pub email_subject: String,
    pub email_text: String,
}

/// A rendered message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub subject: String,
    pub text: String,
}

/// Every language's texts.
#[derive(Debug, Clone)]
pub struct Messages {
    texts: BTreeMap<String, Texts>,
}

const BUILT_IN: &[(&str, &str, &str, &str)] = &[
    (
        "en",
        "Your Vottery code is {code}. It expires in {minutes} minutes. Never share it.",
        "Your Vottery verification code",
        "Your Vottery verification code is {code}.\n\nIt expires in {minutes} minutes. If you did not ask for it, ignore this message; never share the code with anyone.",
    ),
    (
        "fr",
        "Votre code Vottery est {code}. Il expire dans {minutes} minutes. Ne le partagez jamais.",
        "Votre code de vérification Vottery",
        "Votre code de vérification Vottery est {code}.\n\nIl expire dans {minutes} minutes. Si vous ne l'avez pas demandé, ignorez ce message et ne communiquez jamais ce code.",
    ),
    (
        "es",
        "Tu código de Vottery es {code}. Caduca en {minutes} minutos. No lo compartas nunca.",
        "Tu código de verificación de Vottery",
        "Tu código de verificación de Vottery es {code}.\n\nCaduca en {minutes} minutos. Si no lo has pedido, ignora este mensaje y no compartas nunca el código.",
    ),
    (
        "de",
        "Ihr Vottery-Code lautet {code}. Er läuft in {minutes} Minuten ab. Geben Sie ihn niemals weiter.",
        "Ihr Vottery-Bestätigungscode",
        "Ihr Vottery-Bestätigungscode lautet {code}.\n\nEr läuft in {minutes} Minuten ab. Wenn Sie ihn nicht angefordert haben, ignorieren Sie diese Nachricht und geben Sie den Code niemals weiter.",
    ),
    (
        "nl",
        "Je Vottery-code is {code}. Hij verloopt over {minutes} minuten. Deel hem nooit.",
        "Je Vottery-verificatiecode",
        "Je Vottery-verificatiecode is {code}.\n\nHij verloopt over {minutes} minuten. Heb je hem niet aangevraagd, negeer dan dit bericht en deel de code nooit.",
    ),
];

impl Messages {
    /// The built-in texts, overridden or extended by `overrides`: a JSON
    /// object from language to `{sms, email_subject, email_text}` (the
    /// `otp_messages` variable; empty for none).
    pub fn load(overrides: &str) -> Result<Self, String> {
        let mut texts: BTreeMap<String, Texts> = BUILT_IN
            .iter()
            .map(|(lang, sms, subject, text)| {
                let t = Texts { sms: (*sms).into(), email_subject: (*subject).into(), email_text: (*text).into() };
                ((*lang).to_owned(), t)
            })
            .collect();
        if !overrides.trim().is_empty() {
            let extra: BTreeMap<String, Texts> =
                serde_json::from_str(overrides).map_err(|e| format!("otp_messages: {e}"))?;
            for (lang, t) in extra {
                if !t.sms.contains("{code}") || !t.email_text.contains("{code}") {
                    return Err(format!("otp_messages: the `{lang}` texts must contain {{code}}"));
                }
                texts.insert(lang.to_ascii_lowercase(), t);
            }
        }
        Ok(Self { texts })
    }

    /// The message carrying `code` on `channel` in `language`.
    pub fn render(&self, language: &Language, channel: Channel, code: &OtpCode, code_ttl: i64) -> Message {
        let texts = self.texts.get(language.as_str()).or_else(|| self.texts.get("en"));
        let fill = |s: &str| s.replace("{code}", code.as_str()).replace("{minutes}", &(code_ttl / 60).to_string());
        match (texts, channel) {
            (Some(t), Channel::Sms) => Message { subject: String::new(), text: fill(&t.sms) },
            (Some(t), Channel::Email) => Message { subject: fill(&t.email_subject), text: fill(&t.email_text) },
            (None, _) => Message { subject: "Vottery".into(), text: fill("{code}") },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_follows_the_visitors_preferences() {
        let m = Messages::load("").unwrap();
        assert_eq!(Language::choose("fr-CA", &m).as_str(), "fr");
        assert_eq!(Language::choose("ja, de;q=0.8, en;q=0.9", &m).as_str(), "en");
        assert_eq!(Language::choose("ja, de;q=0.9, en;q=0.8", &m).as_str(), "de");
        assert_eq!(Language::choose("", &m).as_str(), "en");
        assert_eq!(Language::choose("es;q=0", &m).as_str(), "en");
    }

    #[test]
    fn texts_carry_the_code_and_lifetime_and_can_be_overridden() {
        let code = OtpCode::parse("042917", 6).unwrap();
        let m = Messages::load("").unwrap();
        for (lang, ..) in BUILT_IN {
            let l = Language::choose(lang, &m);
            for channel in Channel::BOTH {
                let msg = m.render(&l, channel, &code, 600);
                assert!(msg.text.contains("042917") && msg.text.contains("10"), "{lang} {msg:?}");
                assert!(!msg.text.contains('{'), "{lang} {msg:?}");
            }
        }
        let custom = r#"{"pt": {"sms": "Código {code}", "email_subject": "Código", "email_text": "Código: {code}"}}"#;
        let m = Messages::load(custom).unwrap();
        assert_eq!(m.render(&Language::choose("pt-BR", &m), Channel::Sms, &code, 600).text, "Código 042917");
        assert!(Messages::load(r#"{"pt": {"sms": "no code", "email_subject": "", "email_text": "{code}"}}"#).is_err());
        assert!(Messages::load(r#"{"pt": {"sms": "{code}"}}"#).is_err());
    }
}
