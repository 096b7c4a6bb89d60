//! Configuration deploys: the schema of a customer's configuration (workflows, message
//! templates, settings), its validation, its canonical form and hash, and what changed
//! between two versions.
//!
//! Workflows and templates are keyed sets: their order carries no meaning, so the canonical
//! form sorts them by key (steps keep their order). Settings are scalar values by key. Two
//! configurations with the same canonical form have the same [`Configuration::hash`], which is
//! how a repeated deploy is recognised.

use crate::email_template;
use crate::validation::{ValidationErrors, echo};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};

crate::str_enum! {
    /// What starts a workflow.
    pub enum Trigger {
        Manual = "manual",
        Schedule = "schedule",
        ContactCreated = "contact.created",
        ContactUpdated = "contact.updated",
        MessageReceived = "message.received",
        FormSubmitted = "form.submitted",
        Webhook = "webhook",
    }
}

crate::str_enum! {
    /// What a workflow step does.
    pub enum StepType {
        SendEmail = "send_email",
        SendSms = "send_sms",
        SendWhatsapp = "send_whatsapp",
        Wait = "wait",
        Webhook = "webhook",
    }
}

crate::str_enum! {
    /// The channel a message template is for.
    pub enum Channel {
        Email = "email",
        Sms = "sms",
        Whatsapp = "whatsapp",
    }
}

crate::str_enum! {
    /// A deployment is `deployed` (the customer's current configuration) until a newer one
    /// replaces it; then it is `superseded`, for good.
    pub enum DeploymentStatus {
        Deployed = "deployed",
        Superseded = "superseded",
    }
}

impl DeploymentStatus {
    /// The one move: `deployed` → `superseded`.
    pub fn transition(self, to: DeploymentStatus) -> Result<DeploymentStatus, String> {
        match (self, to) {
            (DeploymentStatus::Deployed, DeploymentStatus::Superseded) => Ok(to),
            (from, to) => Err(format!("a {from} deployment cannot become {to}")),
        }
    }
}

impl StepType {
    /// The channel of the template a sending step names.
    pub fn channel(self) -> Option<Channel> {
        match self {
            StepType::SendEmail => Some(Channel::Email),
            StepType::SendSms => Some(Channel::Sms),
            StepType::SendWhatsapp => Some(Channel::Whatsapp),
            StepType::Wait | StepType::Webhook => None,
        }
    }
}

pub const MAX_WORKFLOWS: usize = 100;
pub const MAX_STEPS: usize = 50;
pub const MAX_TEMPLATES: usize = 100;
pub const MAX_SETTINGS: usize = 200;
pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_KEY_CHARS: usize = 64;
pub const MAX_SETTING_KEY_CHARS: usize = 100;
pub const MAX_SETTING_CHARS: usize = 1000;
pub const MAX_TEMPLATE_BODY_CHARS: usize = 100_000;
/// 30 days.
pub const MAX_WAIT_SECONDS: i64 = 2_592_000;

/// A step as given.
#[derive(Debug, Clone, Default)]
pub struct StepInput {
    pub step_type: Option<String>,
    pub template: Option<String>,
    pub duration_seconds: Option<i64>,
    pub url: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct WorkflowInput {
    pub key: Option<String>,
    pub name: Option<String>,
    pub trigger: Option<String>,
    pub enabled: Option<bool>,
    pub steps: Option<Vec<StepInput>>,
}

#[derive(Debug, Clone, Default)]
pub struct TemplateInput {
    pub key: Option<String>,
    pub channel: Option<String>,
    pub subject: Option<String>,
    pub body: Option<String>,
}

/// A setting's value as given: a scalar, or the JSON kind it was instead (`"an object"`).
#[derive(Debug, Clone, PartialEq)]
pub enum SettingInput {
    Text(String),
    Integer(i64),
    Boolean(bool),
    Other(&'static str),
}

#[derive(Debug, Clone, Default)]
pub struct ConfigurationInput {
    pub workflows: Vec<WorkflowInput>,
    pub templates: Vec<TemplateInput>,
    pub settings: BTreeMap<String, SettingInput>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    #[serde(rename = "type")]
    pub step_type: StepType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Workflow {
    pub key: String,
    pub name: String,
    pub trigger: Trigger,
    pub enabled: bool,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageTemplate {
    pub key: String,
    pub channel: Channel,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Setting {
    Boolean(bool),
    Integer(i64),
    Text(String),
}

/// A valid configuration in canonical form (workflows and templates sorted by key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Configuration {
    pub workflows: Vec<Workflow>,
    pub templates: Vec<MessageTemplate>,
    pub settings: BTreeMap<String, Setting>,
}

impl Configuration {
    /// `sha256:` and the hex SHA-256 of the canonical JSON form.
    pub fn hash(&self) -> String {
        // Plain structs, string keys: serialising cannot fail.
        let bytes = serde_json::to_vec(self).unwrap_or_default();
        let digest = Sha256::digest(&bytes);
        let mut out = String::from("sha256:");
        for b in digest {
            out.push_str(&format!("{b:02x}"));
        }
        out
    }
}

/// `[a-z0-9]` then up to 63 of `[a-z0-9_-]`.
fn slug(raw: &str) -> Result<String, String> {
    let t = raw.trim();
    let ok = t.len() <= MAX_KEY_CHARS
        && t.bytes().next().is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && t.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if ok {
        Ok(t.to_owned())
    } else {
        Err(format!(
            "must be 1–{MAX_KEY_CHARS} lower-case letters, digits, '_' or '-', starting with a letter or digit (got '{}')",
            echo(t)
        ))
    }
}

fn setting_key(raw: &str) -> Result<(), String> {
    let word = |w: &str| {
        w.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
            && w.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    };
    if raw.len() <= MAX_SETTING_KEY_CHARS && raw.split('.').all(word) {
        Ok(())
    } else {
        Err(format!(
            "is not a setting key: dot-separated lower-case words of at most {MAX_SETTING_KEY_CHARS} characters"
        ))
    }
}

fn name(raw: &str) -> Result<String, String> {
    let t = raw.trim();
    match t.chars().count() {
        0 => Err("is required".into()),
        n if n > MAX_NAME_CHARS => Err(format!("must be at most {MAX_NAME_CHARS} characters")),
        _ => Ok(t.to_owned()),
    }
}

/// Checks a deploy request; every problem is named by its path (`workflows[2].trigger`,
/// `workflows[0].steps[1].template`, `templates[1].body`, `settings.locale`).
pub fn validate(input: ConfigurationInput) -> Result<Configuration, ValidationErrors> {
    let mut e = ValidationErrors::new();
    if input.workflows.len() > MAX_WORKFLOWS {
        e.add("workflows", format!("must have at most {MAX_WORKFLOWS} items"));
    }
    if input.templates.len() > MAX_TEMPLATES {
        e.add("templates", format!("must have at most {MAX_TEMPLATES} items"));
    }
    if input.settings.len() > MAX_SETTINGS {
        e.add("settings", format!("must have at most {MAX_SETTINGS} keys"));
    }
    e.into_result()?;
    let mut e = ValidationErrors::new();

    let mut templates = Vec::new();
    let mut template_keys: BTreeMap<String, (usize, Option<Channel>)> = BTreeMap::new();
    for (i, t) in input.templates.into_iter().enumerate() {
        let at = |f: &str| format!("templates[{i}].{f}");
        let key = match t.key.as_deref() {
            None => {
                e.add(&at("key"), "is required");
                None
            }
            Some(k) => e.check(&at("key"), slug(k)),
        };
        let channel = match t.channel.as_deref() {
            None => {
                e.add(&at("channel"), "is required");
                None
            }
            Some(c) => e.check(&at("channel"), Channel::parse(c.trim())),
        };
        if let Some(k) = &key {
            if let Some((first, _)) = template_keys.get(k) {
                e.add(&at("key"), format!("duplicate key '{k}' (also templates[{first}])"));
            } else {
                template_keys.insert(k.clone(), (i, channel));
            }
        }
        let subject = match (channel, t.subject) {
            (Some(Channel::Email), None) => {
                e.add(&at("subject"), "is required for an email template");
                None
            }
            (Some(Channel::Email), Some(s)) => {
                if s.trim().is_empty() {
                    e.add(&at("subject"), "is required for an email template");
                } else if s.chars().count() > email_template::MAX_SUBJECT_CHARS {
                    e.add(&at("subject"), format!("must be at most {} characters", email_template::MAX_SUBJECT_CHARS));
                } else if s.contains(['\n', '\r']) {
                    e.add(&at("subject"), "must be one line");
                } else if let Err(m) = email_template::parse(&s) {
                    e.add(&at("subject"), m);
                }
                Some(s)
            }
            (Some(c), Some(_)) => {
                e.add(&at("subject"), format!("only email templates have a subject (this one is {c})"));
                None
            }
            (_, s) => s,
        };
        match t.body.as_deref() {
            None => e.add(&at("body"), "is required"),
            Some(b) if b.trim().is_empty() => e.add(&at("body"), "is required"),
            Some(b) if b.chars().count() > MAX_TEMPLATE_BODY_CHARS => {
                e.add(&at("body"), format!("must be at most {MAX_TEMPLATE_BODY_CHARS} characters"))
            }
            Some(b) => {
                if let Err(m) = email_template::parse(b) {
                    e.add(&at("body"), m);
                }
            }
        }
        if let (Some(key), Some(channel), Some(body)) = (key, channel, t.body) {
            templates.push(MessageTemplate { key, channel, subject, body });
        }
    }

    let mut workflows = Vec::new();
    let mut workflow_keys: BTreeMap<String, usize> = BTreeMap::new();
    for (i, w) in input.workflows.into_iter().enumerate() {
        let at = |f: &str| format!("workflows[{i}].{f}");
        let key = match w.key.as_deref() {
            None => {
                e.add(&at("key"), "is required");
                None
            }
            Some(k) => e.check(&at("key"), slug(k)),
        };
        if let Some(k) = &key {
            if let Some(first) = workflow_keys.get(k) {
                e.add(&at("key"), format!("duplicate key '{k}' (also workflows[{first}])"));
            } else {
                workflow_keys.insert(k.clone(), i);
            }
        }
        let wname = match w.name.as_deref() {
            None => {
                e.add(&at("name"), "is required");
                None
            }
            Some(n) => e.check(&at("name"), name(n)),
        };
        let trigger = match w.trigger.as_deref() {
            None => {
                e.add(&at("trigger"), "is required");
                None
            }
            Some(t) => e.check(&at("trigger"), Trigger::parse(t.trim())),
        };
        let mut steps = Vec::new();
        match w.steps {
            None => e.add(&at("steps"), "is required"),
            Some(s) if s.is_empty() => e.add(&at("steps"), "must have at least one step"),
            Some(s) if s.len() > MAX_STEPS => e.add(&at("steps"), format!("must have at most {MAX_STEPS} steps")),
            Some(s) => {
                for (j, st) in s.into_iter().enumerate() {
                    if let Some(step) = validate_step(&mut e, &at(&format!("steps[{j}]")), st, &template_keys) {
                        steps.push(step);
                    }
                }
            }
        }
        if let (Some(key), Some(name), Some(trigger)) = (key, wname, trigger) {
            workflows.push(Workflow { key, name, trigger, enabled: w.enabled.unwrap_or(true), steps });
        }
    }

    let mut settings = BTreeMap::new();
    for (k, v) in input.settings {
        let at = format!("settings.{k}");
        if let Err(m) = setting_key(&k) {
            e.add(&at, m);
            continue;
        }
        let value = match v {
            SettingInput::Boolean(b) => Setting::Boolean(b),
            SettingInput::Integer(n) => Setting::Integer(n),
            SettingInput::Text(s) if s.chars().count() > MAX_SETTING_CHARS => {
                e.add(&at, format!("must be at most {MAX_SETTING_CHARS} characters"));
                continue;
            }
            SettingInput::Text(s) => Setting::Text(s),
            SettingInput::Other(kind) => {
                e.add(&at, format!("must be a string, an integer or a boolean (got {kind})"));
                continue;
            }
        };
        settings.insert(k, value);
    }
    e.into_result()?;
    workflows.sort_by(|a, b| a.key.cmp(&b.key));
    templates.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(Configuration { workflows, templates, settings })
}

fn validate_step(
    e: &mut ValidationErrors,
    at: &str,
    s: StepInput,
    templates: &BTreeMap<String, (usize, Option<Channel>)>,
) -> Option<Step> {
    let f = |name: &str| format!("{at}.{name}");
    let Some(raw) = s.step_type.as_deref() else {
        e.add(&f("type"), "is required");
        return None;
    };
    let step_type = e.check(&f("type"), StepType::parse(raw.trim()))?;
    let before = e.fields().len();
    let unused = |e: &mut ValidationErrors, field: &str, given: bool| {
        if given {
            e.add(&f(field), format!("is not used by a {step_type} step"));
        }
    };
    let mut step = Step { step_type, template: None, duration_seconds: None, url: None };
    match step_type {
        StepType::SendEmail | StepType::SendSms | StepType::SendWhatsapp => {
            let want = step_type.channel();
            match s.template.as_deref().map(str::trim) {
                None => e.add(&f("template"), "is required"),
                Some(k) => match templates.get(k) {
                    None => e.add(&f("template"), format!("no template with key '{}' in templates", echo(k))),
                    Some((_, channel)) if *channel != want && channel.is_some() => e.add(
                        &f("template"),
                        format!(
                            "template '{k}' is for {}, a {step_type} step needs a {} template",
                            channel.map_or("", |c| c.as_str()),
                            want.map_or("", |c| c.as_str())
                        ),
                    ),
                    Some(_) => step.template = Some(k.to_owned()),
                },
            }
            unused(e, "duration_seconds", s.duration_seconds.is_some());
            unused(e, "url", s.url.is_some());
        }
        StepType::Wait => {
            match s.duration_seconds {
                None => e.add(&f("duration_seconds"), "is required"),
                Some(d) if !(1..=MAX_WAIT_SECONDS).contains(&d) => {
                    e.add(&f("duration_seconds"), format!("must be 1–{MAX_WAIT_SECONDS} (30 days)"))
                }
                Some(d) => step.duration_seconds = Some(d),
            }
            unused(e, "template", s.template.is_some());
            unused(e, "url", s.url.is_some());
        }
        StepType::Webhook => {
            match s.url.as_deref() {
                None => e.add(&f("url"), "is required"),
                Some(u) => step.url = e.check(&f("url"), crate::branding::https_url(u)),
            }
            unused(e, "template", s.template.is_some());
            unused(e, "duration_seconds", s.duration_seconds.is_some());
        }
    }
    (e.fields().len() == before).then_some(step)
}

/// Keys added, removed and changed between two versions, each sorted.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct KeyChanges {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub changed: Vec<String>,
}

impl KeyChanges {
    fn between<V: PartialEq>(old: &BTreeMap<&str, &V>, new: &BTreeMap<&str, &V>) -> Self {
        let keys: BTreeSet<&str> = old.keys().chain(new.keys()).copied().collect();
        let mut c = KeyChanges::default();
        for k in keys {
            match (old.get(k), new.get(k)) {
                (None, Some(_)) => c.added.push(k.to_owned()),
                (Some(_), None) => c.removed.push(k.to_owned()),
                (Some(a), Some(b)) if a != b => c.changed.push(k.to_owned()),
                _ => {}
            }
        }
        c
    }

    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

/// What a version changed against the one before it (everything is added for the first).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ConfigChanges {
    pub workflows: KeyChanges,
    pub templates: KeyChanges,
    pub settings: KeyChanges,
}

pub fn changes(previous: Option<&Configuration>, next: &Configuration) -> ConfigChanges {
    let empty = Configuration::default();
    let old = previous.unwrap_or(&empty);
    fn workflows(c: &Configuration) -> BTreeMap<&str, &Workflow> {
        c.workflows.iter().map(|w| (w.key.as_str(), w)).collect()
    }
    fn templates(c: &Configuration) -> BTreeMap<&str, &MessageTemplate> {
        c.templates.iter().map(|t| (t.key.as_str(), t)).collect()
    }
    fn settings(c: &Configuration) -> BTreeMap<&str, &Setting> {
        c.settings.iter().map(|(k, v)| (k.as_str(), v)).collect()
    }
    ConfigChanges {
        workflows: KeyChanges::between(&workflows(old), &workflows(next)),
        templates: KeyChanges::between(&templates(old), &templates(next)),
        settings: KeyChanges::between(&settings(old), &settings(next)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email_template(key: &str) -> TemplateInput {
        TemplateInput {
            key: Some(key.into()),
            channel: Some("email".into()),
            subject: Some("Hi {{contact.first_name}}".into()),
            body: Some("Welcome".into()),
        }
    }

    fn send(template: &str) -> StepInput {
        StepInput { step_type: Some("send_email".into()), template: Some(template.into()), ..Default::default() }
    }

    fn workflow(key: &str, steps: Vec<StepInput>) -> WorkflowInput {
        WorkflowInput {
            key: Some(key.into()),
            name: Some(format!("{key} flow")),
            trigger: Some("contact.created".into()),
            enabled: None,
            steps: Some(steps),
        }
    }

    fn valid() -> ConfigurationInput {
        let wait = StepInput { step_type: Some("wait".into()), duration_seconds: Some(3600), ..Default::default() };
        ConfigurationInput {
            workflows: vec![
                workflow("onboarding", vec![send("welcome"), wait]),
                workflow("alerts", vec![send("welcome")]),
            ],
            templates: vec![email_template("welcome")],
            settings: BTreeMap::from([
                ("locale".into(), SettingInput::Text("en-US".into())),
                ("max_seats".into(), SettingInput::Integer(25)),
                ("sso.enabled".into(), SettingInput::Boolean(true)),
            ]),
        }
    }

    fn problems(input: ConfigurationInput) -> Vec<String> {
        validate(input).unwrap_err().fields().keys().cloned().collect()
    }

    #[test]
    fn a_valid_configuration_is_canonical() {
        let c = validate(valid()).unwrap();
        assert_eq!(c.workflows.iter().map(|w| w.key.as_str()).collect::<Vec<_>>(), ["alerts", "onboarding"]);
        assert!(c.workflows.iter().all(|w| w.enabled));
        assert_eq!(c.workflows[1].steps[1].duration_seconds, Some(3600));
        // Order of keyed items does not change the hash; content does.
        let mut reordered = valid();
        reordered.workflows.reverse();
        assert_eq!(validate(reordered).unwrap().hash(), c.hash());
        let mut other = valid();
        other.settings.insert("locale".into(), SettingInput::Text("fr-FR".into()));
        assert_ne!(validate(other).unwrap().hash(), c.hash());
        assert!(c.hash().starts_with("sha256:") && c.hash().len() == 7 + 64);
        assert_eq!(validate(ConfigurationInput::default()).unwrap(), Configuration::default());
        // The stored form reads back as the same configuration.
        let back: Configuration = serde_json::from_value(serde_json::to_value(&c).unwrap()).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn workflow_problems_are_named_by_path() {
        let mut i = valid();
        i.workflows[1].trigger = Some("sometimes".into());
        i.workflows[0].name = Some(" ".into());
        assert_eq!(problems(i), ["workflows[0].name", "workflows[1].trigger"]);

        let mut i = valid();
        i.workflows[1].key = Some("onboarding".into());
        let e = validate(i).unwrap_err();
        assert_eq!(e.fields()["workflows[1].key"], ["duplicate key 'onboarding' (also workflows[0])"]);

        let mut i = valid();
        i.workflows[0].key = Some("Bad Key".into());
        i.workflows[1].steps = Some(vec![]);
        i.workflows.push(WorkflowInput::default());
        assert_eq!(
            problems(i),
            [
                "workflows[0].key",
                "workflows[1].steps",
                "workflows[2].key",
                "workflows[2].name",
                "workflows[2].steps",
                "workflows[2].trigger"
            ]
        );
        let mut i = valid();
        i.workflows[0].steps = Some(vec![send("welcome"); MAX_STEPS + 1]);
        assert_eq!(problems(i), ["workflows[0].steps"]);
        let mut i = valid();
        i.workflows = vec![workflow("a", vec![send("welcome")]); MAX_WORKFLOWS + 1];
        assert_eq!(problems(i), ["workflows"]);
    }

    #[test]
    fn steps_are_checked_per_type() {
        let mut i = valid();
        i.workflows[0].steps = Some(vec![
            send("missing"),
            StepInput {
                step_type: Some("wait".into()),
                duration_seconds: Some(0),
                url: Some("https://x.io".into()),
                ..Default::default()
            },
            StepInput { step_type: Some("webhook".into()), url: Some("http://x.io/hook".into()), ..Default::default() },
            StepInput { step_type: Some("teleport".into()), ..Default::default() },
            StepInput::default(),
            StepInput { step_type: Some("send_sms".into()), template: Some("welcome".into()), ..Default::default() },
        ]);
        let e = validate(i).unwrap_err();
        let f = e.fields();
        assert_eq!(f["workflows[0].steps[0].template"], ["no template with key 'missing' in templates"]);
        assert!(f["workflows[0].steps[1].duration_seconds"][0].starts_with("must be 1–"));
        assert_eq!(f["workflows[0].steps[1].url"], ["is not used by a wait step"]);
        assert!(f["workflows[0].steps[2].url"][0].contains("https"));
        assert!(f["workflows[0].steps[3].type"][0].starts_with("must be one of"));
        assert_eq!(f["workflows[0].steps[4].type"], ["is required"]);
        assert!(f["workflows[0].steps[5].template"][0].contains("needs a sms template"));
        assert_eq!(f.len(), 7);
    }

    #[test]
    fn template_and_setting_problems_are_named() {
        let mut i = valid();
        i.workflows.clear();
        i.templates.push(TemplateInput {
            key: Some("reminder".into()),
            channel: Some("sms".into()),
            subject: Some("not for sms".into()),
            body: Some("Hi {{contact.first_name".into()),
        });
        i.templates.push(email_template("welcome"));
        i.templates.push(TemplateInput { key: Some("x".into()), channel: Some("fax".into()), ..Default::default() });
        i.templates.push(TemplateInput { subject: None, ..email_template("nosubject") });
        i.settings.insert("Bad Key".into(), SettingInput::Text("x".into()));
        i.settings.insert("nested".into(), SettingInput::Other("an object"));
        i.settings.insert("long".into(), SettingInput::Text("x".repeat(MAX_SETTING_CHARS + 1)));
        let e = validate(i).unwrap_err();
        let f = e.fields();
        assert_eq!(f["templates[1].subject"], ["only email templates have a subject (this one is sms)"]);
        assert_eq!(f["templates[1].body"], ["unclosed {{ at character 4"]);
        assert_eq!(f["templates[2].key"], ["duplicate key 'welcome' (also templates[0])"]);
        assert!(f["templates[3].channel"][0].starts_with("must be one of"));
        assert_eq!(f["templates[3].body"], ["is required"]);
        assert_eq!(f["templates[4].subject"], ["is required for an email template"]);
        assert!(f["settings.Bad Key"][0].starts_with("is not a setting key"));
        assert_eq!(f["settings.nested"], ["must be a string, an integer or a boolean (got an object)"]);
        assert!(f["settings.long"][0].contains("at most"));
        assert_eq!(f.len(), 9);
    }

    #[test]
    fn changes_are_named_by_key() {
        let first = validate(valid()).unwrap();
        let c = changes(None, &first);
        assert_eq!(c.workflows.added, ["alerts", "onboarding"]);
        assert_eq!(c.templates.added, ["welcome"]);
        assert_eq!(c.settings.added, ["locale", "max_seats", "sso.enabled"]);
        assert!(c.workflows.removed.is_empty() && c.workflows.changed.is_empty());

        let mut i = valid();
        i.workflows.remove(1);
        i.workflows[0].name = Some("Renamed".into());
        i.workflows.push(workflow("winback", vec![send("welcome")]));
        i.settings.remove("locale");
        i.settings.insert("max_seats".into(), SettingInput::Integer(50));
        i.settings.insert("theme".into(), SettingInput::Text("dark".into()));
        let second = validate(i).unwrap();
        let c = changes(Some(&first), &second);
        assert_eq!(
            c.workflows,
            KeyChanges {
                added: vec!["winback".into()],
                removed: vec!["alerts".into()],
                changed: vec!["onboarding".into()]
            }
        );
        assert!(c.templates.is_empty());
        assert_eq!(
            c.settings,
            KeyChanges {
                added: vec!["theme".into()],
                removed: vec!["locale".into()],
                changed: vec!["max_seats".into()]
            }
        );
        assert_eq!(changes(Some(&second), &second), ConfigChanges::default());
    }

    #[test]
    fn deployments_only_move_to_superseded() {
        use DeploymentStatus::*;
        assert_eq!(Deployed.transition(Superseded), Ok(Superseded));
        for (from, to) in [(Deployed, Deployed), (Superseded, Superseded), (Superseded, Deployed)] {
            assert!(from.transition(to).is_err(), "{from} → {to}");
        }
    }
}
