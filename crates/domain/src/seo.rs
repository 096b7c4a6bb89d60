//! The SEO model: deterministic rules that award integer points (100 in all), a breakdown per
//! component, a grade, and recommendations whose impact is true by construction.
//!
//! | component   | rule                                                         | points |
//! |-------------|--------------------------------------------------------------|--------|
//! | title       | length 30–70 characters (20–29 or 71–90: half)                | 12     |
//! | title       | no SHOUTING words (4+ capitals), no repeated `!?*$` (4 each)  | 8      |
//! | description | short description 80–250 characters (40–79 or 251–350: half) | 8      |
//! | description | long description ≥ 600 characters (300–599: 4)               | 7      |
//! | description | long description in ≥ 2 paragraphs                           | 5      |
//! | description | average sentence ≤ 20 words (≤ 30: 2)                        | 5      |
//! | highlights  | 3–5 highlights (2 or 6: 8; 1 or 7+: 4)                       | 12     |
//! | highlights  | each 20–120 characters (at least half: 4)                    | 8      |
//! | keywords    | 3+ search keywords (1–2: 2)                                  | 5      |
//! | keywords    | primary (first) keyword in the title (another keyword: 3)    | 5      |
//! | keywords    | share of keywords used in title or descriptions, × 10, floor | 10     |
//! | images      | a logo                                                       | 5      |
//! | images      | 3+ screenshots (1–2: 5)                                      | 10     |
//!
//! Each component's breakdown value is its points as a percentage of its maximum. Grades: A ≥ 80,
//! B ≥ 65, C ≥ 50, D ≥ 35, else F.
//!
//! A recommendation proposes one field's new value (or, for images, how many to add). Its impact
//! is the overall score of the listing with that proposal applied minus the current score,
//! computed by scoring the changed listing, so applying it yields exactly the stated change.

use crate::listing::ListingContent;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Component {
    Title,
    Description,
    Highlights,
    Keywords,
    Images,
}

impl Component {
    pub const ALL: [Component; 5] =
        [Component::Title, Component::Description, Component::Highlights, Component::Keywords, Component::Images];

    pub fn as_str(self) -> &'static str {
        match self {
            Component::Title => "title",
            Component::Description => "description",
            Component::Highlights => "highlights",
            Component::Keywords => "keywords",
            Component::Images => "images",
        }
    }

    fn max(self) -> u32 {
        match self {
            Component::Title => 20,
            Component::Description => 25,
            Component::Highlights => 20,
            Component::Keywords => 20,
            Component::Images => 15,
        }
    }
}

/// Points per component, in `Component::ALL` order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Points([u32; 5]);

impl Points {
    pub fn of(&self, c: Component) -> u32 {
        self.0[c as usize]
    }

    pub fn overall(&self) -> u32 {
        self.0.iter().sum()
    }

    /// The component's score as a percentage of its maximum, rounded half up.
    pub fn percent(&self, c: Component) -> u32 {
        (200 * self.of(c) + c.max()) / (2 * c.max())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeoScore {
    pub overall: u32,
    pub points: Points,
    pub grade: &'static str,
}

impl SeoScore {
    pub fn breakdown(&self) -> [(Component, u32); 5] {
        Component::ALL.map(|c| (c, self.points.percent(c)))
    }
}

pub fn grade(overall: u32) -> &'static str {
    match overall {
        80.. => "A",
        65..=79 => "B",
        50..=64 => "C",
        35..=49 => "D",
        _ => "F",
    }
}

pub fn score(c: &ListingContent) -> SeoScore {
    let points = Points([
        title_length(&c.title) + title_clean(&c.title),
        short_length(&c.short_description)
            + long_length(&c.long_description)
            + structure(&c.long_description)
            + readability(&c.long_description),
        highlight_count(c.highlights.len()) + highlight_lengths(&c.highlights),
        keyword_count(c.keywords.len()) + keyword_in_title(c) + keyword_coverage(c),
        if c.logo_url.is_some() { 5 } else { 0 } + screenshots(c.images.len()),
    ]);
    let overall = points.overall();
    SeoScore { overall, points, grade: grade(overall) }
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

fn title_length(t: &str) -> u32 {
    match chars(t) {
        30..=70 => 12,
        20..=29 | 71..=90 => 6,
        _ => 0,
    }
}

fn shouting(t: &str) -> bool {
    t.split(|c: char| !c.is_alphabetic()).any(|w| w.chars().count() >= 4 && w.chars().all(char::is_uppercase))
}

fn repeated_punctuation(t: &str) -> bool {
    let marks = ['!', '?', '*', '$'];
    t.chars().zip(t.chars().skip(1)).any(|(a, b)| marks.contains(&a) && marks.contains(&b))
}

fn title_clean(t: &str) -> u32 {
    if t.trim().is_empty() {
        return 0;
    }
    8 - if shouting(t) { 4 } else { 0 } - if repeated_punctuation(t) { 4 } else { 0 }
}

fn short_length(s: &str) -> u32 {
    match chars(s) {
        80..=250 => 8,
        40..=79 | 251..=350 => 4,
        _ => 0,
    }
}

fn long_length(s: &str) -> u32 {
    match chars(s) {
        600.. => 7,
        300..=599 => 4,
        _ => 0,
    }
}

fn paragraphs(s: &str) -> Vec<&str> {
    s.split('\n').map(str::trim).filter(|p| !p.is_empty()).collect()
}

fn structure(s: &str) -> u32 {
    if paragraphs(s).len() >= 2 { 5 } else { 0 }
}

/// Sentences end at `.`, `!`, `?` followed by white space or the end, and at line breaks.
pub fn sentences(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in s.split('\n') {
        let mut current = String::new();
        let mut it = line.chars().peekable();
        while let Some(ch) = it.next() {
            current.push(ch);
            if matches!(ch, '.' | '!' | '?') && it.peek().is_none_or(|n| n.is_whitespace()) {
                if !current.trim().is_empty() {
                    out.push(current.trim().to_owned());
                }
                current.clear();
            }
        }
        if !current.trim().is_empty() {
            out.push(current.trim().to_owned());
        }
    }
    out
}

fn readability(s: &str) -> u32 {
    let sentences = sentences(s);
    let words: usize = sentences.iter().map(|x| x.split_whitespace().count()).sum();
    if words == 0 {
        return 0;
    }
    // Average ≤ 20 words ⇔ words ≤ 20 × sentences; integers keep it exact.
    match words {
        w if w <= 20 * sentences.len() => 5,
        w if w <= 30 * sentences.len() => 2,
        _ => 0,
    }
}

fn highlight_count(n: usize) -> u32 {
    match n {
        3..=5 => 12,
        2 | 6 => 8,
        0 => 0,
        _ => 4,
    }
}

fn good_highlight(h: &str) -> bool {
    (20..=120).contains(&chars(h))
}

fn highlight_lengths(hs: &[String]) -> u32 {
    let good = hs.iter().filter(|h| good_highlight(h)).count();
    match good {
        _ if hs.is_empty() => 0,
        g if g == hs.len() => 8,
        g if 2 * g >= hs.len() => 4,
        _ => 0,
    }
}

fn keyword_count(n: usize) -> u32 {
    match n {
        0 => 0,
        1 | 2 => 2,
        _ => 5,
    }
}

fn contains_ci(haystack: &str, needle: &str) -> bool {
    haystack.to_lowercase().contains(&needle.to_lowercase())
}

fn keyword_in_title(c: &ListingContent) -> u32 {
    match c.keywords.first() {
        Some(primary) if contains_ci(&c.title, primary) => 5,
        Some(_) if c.keywords.iter().any(|k| contains_ci(&c.title, k)) => 3,
        _ => 0,
    }
}

fn searchable_text(c: &ListingContent) -> String {
    format!("{} {} {}", c.title, c.short_description, c.long_description).to_lowercase()
}

fn keyword_coverage(c: &ListingContent) -> u32 {
    if c.keywords.is_empty() {
        return 0;
    }
    let text = searchable_text(c);
    let covered = c.keywords.iter().filter(|k| text.contains(&k.to_lowercase())).count();
    u32::try_from(10 * covered / c.keywords.len()).unwrap_or(10)
}

fn screenshots(n: usize) -> u32 {
    match n {
        0 => 0,
        1 | 2 => 5,
        _ => 10,
    }
}

// ---------------------------------------------------------------------------------------------
// Proposals: deterministic, template-based rewrites of one field each.

fn marketplace_name(m: &str) -> &'static str {
    match m {
        "azure" => "Azure",
        "gcp" => "Google Cloud",
        _ => "AWS",
    }
}

fn capitalise_words(s: &str) -> String {
    s.split(' ')
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
        })
        .collect::<Vec<String>>()
        .join(" ")
}

/// Cuts `s` to at most `max` characters at a word boundary.
pub fn truncate_words(s: &str, max: usize) -> String {
    if chars(s) <= max {
        return s.to_owned();
    }
    let mut out = String::new();
    for w in s.split_whitespace() {
        let next = if out.is_empty() { chars(w) } else { chars(&out) + 1 + chars(w) };
        if next > max {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    if out.is_empty() { s.chars().take(max).collect() } else { out.trim_end_matches([',', ';', ':', '-']).to_owned() }
}

fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// The title without shouting (all-caps words of 4+ letters become capitalised) and without
/// runs of `!?*$` (a whole run goes: "Suite!!" → "Suite").
fn clean_title(t: &str) -> String {
    let marks = ['!', '?', '*', '$'];
    let chars: Vec<char> = t.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let run = chars[i..].iter().take_while(|c| marks.contains(c)).count();
        if run >= 2 {
            i += run;
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    out.split_whitespace()
        .map(|w| {
            let letters: Vec<char> = w.chars().filter(|c| c.is_alphabetic()).collect();
            if letters.len() >= 4 && letters.iter().all(|c| c.is_uppercase()) {
                capitalise_words(&w.to_lowercase())
            } else {
                w.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn propose_title(c: &ListingContent) -> String {
    let base = clean_title(&c.title);
    let suffix = match c.keywords.first() {
        Some(k) if !contains_ci(&base, k) => format!(" for {}", capitalise_words(k)),
        _ => String::new(),
    };
    let mut t = format!("{}{suffix}", truncate_words(&base, 70usize.saturating_sub(chars(&suffix))));
    if chars(&t) < 30
        && let Some(cat) = c.categories.iter().find(|cat| !contains_ci(&t, cat))
    {
        t = format!("{t} | {cat}");
    }
    if chars(&t) < 30 {
        t = format!("{t} on {} Marketplace", marketplace_name(&c.marketplace));
    }
    truncate_words(t.trim(), 70)
}

pub fn propose_short_description(c: &ListingContent) -> String {
    let text = searchable_text(c);
    let missing: Vec<String> = c.keywords.iter().filter(|k| !text.contains(&k.to_lowercase())).cloned().collect();
    let covers = if missing.is_empty() { String::new() } else { format!(" Covers {}.", join_and(&missing)) };
    let mut core = c.short_description.trim().to_owned();
    if core.is_empty() {
        core =
            sentences(&c.long_description).into_iter().next().unwrap_or_else(|| format!("{}.", clean_title(&c.title)));
    }
    for h in &c.highlights {
        if chars(&core) + chars(&covers) >= 80 {
            break;
        }
        core = format!("{core} {}.", h.trim_end_matches('.'));
    }
    if chars(&core) + chars(&covers) < 80 {
        core = format!("{core} Available on {} Marketplace.", marketplace_name(&c.marketplace));
    }
    let core = truncate_words(&core, 250usize.saturating_sub(chars(&covers)));
    format!("{core}{covers}").trim().to_owned()
}

/// Splits a sentence of more than 25 words at the comma nearest its middle, repeatedly.
fn split_long_sentence(s: &str) -> Vec<String> {
    let words: Vec<&str> = s.split_whitespace().collect();
    if words.len() <= 25 {
        return vec![s.to_owned()];
    }
    let middle = words.len() / 2;
    let cut = words
        .iter()
        .enumerate()
        .filter(|(_, w)| w.ends_with(','))
        .min_by_key(|(i, _)| i.abs_diff(middle))
        .map(|(i, _)| i);
    match cut {
        Some(i) if i + 1 < words.len() => {
            let first = format!("{}.", words[..=i].join(" ").trim_end_matches(','));
            let second = capitalise_first(&words[i + 1..].join(" "));
            let mut out = split_long_sentence(&first);
            out.extend(split_long_sentence(&second));
            out
        }
        _ => vec![s.to_owned()],
    }
}

fn capitalise_first(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

pub fn propose_long_description(c: &ListingContent) -> String {
    let mut body: Vec<String> = paragraphs(&c.long_description).into_iter().map(str::to_owned).collect();
    if chars(&c.long_description) < 600 {
        if body.is_empty() {
            let opening = if c.short_description.trim().is_empty() {
                format!("{}.", c.title.trim())
            } else {
                c.short_description.trim().to_owned()
            };
            body.push(opening);
        }
        if !c.highlights.is_empty() {
            let items: Vec<String> = c.highlights.iter().map(|h| format!("{}.", h.trim_end_matches('.'))).collect();
            body.push(format!("Key capabilities: {}", items.join(" ")));
        }
        if !c.keywords.is_empty() {
            body.push(format!("{} supports {}.", clean_title(&c.title), join_and(&c.keywords)));
        }
        let place = marketplace_name(&c.marketplace);
        body.push(if c.categories.is_empty() {
            format!("It is available on {place} Marketplace.")
        } else {
            format!("It is listed under {} on {place} Marketplace.", join_and(&c.categories))
        });
    }
    // Readable sentences, three to a paragraph when the text has only one.
    let sentences: Vec<String> = body.iter().flat_map(|p| sentences(p)).flat_map(|s| split_long_sentence(&s)).collect();
    let text = if body.len() >= 2 {
        body.iter().map(|p| sentences_of(p)).collect::<Vec<_>>().join("\n\n")
    } else {
        sentences.chunks(3).map(|chunk| chunk.join(" ")).collect::<Vec<_>>().join("\n\n")
    };
    text.chars().take(crate::listing::MAX_LONG).collect()
}

fn sentences_of(paragraph: &str) -> String {
    sentences(paragraph).iter().flat_map(|s| split_long_sentence(s)).collect::<Vec<_>>().join(" ")
}

pub fn propose_highlights(c: &ListingContent) -> Vec<String> {
    let place = marketplace_name(&c.marketplace);
    let mut out: Vec<String> = c
        .highlights
        .iter()
        .take(5)
        .map(|h| {
            if chars(h) > 120 {
                truncate_words(h, 120)
            } else if chars(h) < 20 {
                truncate_words(&format!("{} for teams on {place}", h.trim_end_matches('.')), 120)
            } else {
                h.clone()
            }
        })
        .collect();
    let mentioned = |out: &Vec<String>, k: &str| out.iter().any(|h| contains_ci(h, k));
    for k in &c.keywords {
        if out.len() >= 3 {
            break;
        }
        if !mentioned(&out, k) {
            out.push(format!("Built-in {k} capabilities, ready to deploy on {place}"));
        }
    }
    for cat in &c.categories {
        if out.len() >= 3 {
            break;
        }
        if !mentioned(&out, cat) {
            out.push(format!("Designed for {cat} teams and their workflows"));
        }
    }
    while out.len() < 3 {
        let n = out.len() + 1;
        out.push(format!("Deploys from {place} Marketplace in minutes (benefit {n})"));
    }
    out
}

const STOPWORDS: &[&str] = &[
    "about", "after", "their", "there", "these", "where", "which", "while", "with", "your", "from", "that", "this",
    "into", "for", "and", "the",
];

pub fn propose_keywords(c: &ListingContent) -> Vec<String> {
    let mut out = c.keywords.clone();
    let text = format!("{} {}", c.title, c.short_description);
    let words = text.split(|ch: char| !ch.is_alphanumeric()).map(str::to_lowercase);
    let candidates = c
        .categories
        .iter()
        .map(|cat| cat.to_lowercase())
        .filter(|cat| searchable_text(c).contains(cat.as_str()))
        .chain(words);
    for w in candidates {
        if out.len() >= 3 {
            break;
        }
        let significant =
            chars(&w) >= 5 && !STOPWORDS.contains(&w.as_str()) && !w.chars().all(|ch| ch.is_ascii_digit());
        if significant && !out.iter().any(|k| k.eq_ignore_ascii_case(&w)) {
            out.push(w);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Recommendations.

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proposal {
    Text(String),
    List(Vec<String>),
    /// Assets only the partner can supply: add this many (images) or one (logo).
    Add(usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recommendation {
    pub category: Component,
    pub priority: &'static str,
    pub field: &'static str,
    pub suggestion: String,
    pub proposal: Proposal,
    pub impact: u32,
}

/// The update that applies a recommendation's proposal to `field` (the same change its
/// `impact` was measured with); `None` for an asset only the partner can supply (images, logo).
pub fn proposal_patch(field: &str, proposal: &Proposal) -> Option<crate::listing::ListingPatch> {
    use crate::listing::ListingPatch;
    let mut patch = ListingPatch::default();
    match (field, proposal) {
        ("title", Proposal::Text(t)) => patch.title = Some(t.clone()),
        ("short_description", Proposal::Text(t)) => patch.short_description = Some(t.clone()),
        ("long_description", Proposal::Text(t)) => patch.long_description = Some(t.clone()),
        ("highlights", Proposal::List(l)) => patch.highlights = Some(l.clone()),
        ("keywords", Proposal::List(l)) => patch.keywords = Some(l.clone()),
        _ => return None,
    }
    Some(patch)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recommendations {
    pub items: Vec<Recommendation>,
    /// The score gain when every recommendation is applied together.
    pub total_potential_improvement: u32,
}

fn priority(impact: u32) -> &'static str {
    match impact {
        8.. => "high",
        4..=7 => "medium",
        _ => "low",
    }
}

/// Puts a proposal into a copy of the listing (placeholder URLs stand in for assets: scoring
/// reads only how many there are).
pub fn apply(c: &ListingContent, field: &str, p: &Proposal) -> ListingContent {
    let mut out = c.clone();
    match (field, p) {
        ("title", Proposal::Text(t)) => out.title = t.clone(),
        ("short_description", Proposal::Text(t)) => out.short_description = t.clone(),
        ("long_description", Proposal::Text(t)) => out.long_description = t.clone(),
        ("highlights", Proposal::List(l)) => out.highlights = l.clone(),
        ("keywords", Proposal::List(l)) => out.keywords = l.clone(),
        ("images", Proposal::Add(n)) => {
            out.images.extend((0..*n).map(|i| format!("https://assets.invalid/screenshot-{i}.png")))
        }
        ("logo_url", Proposal::Add(_)) => out.logo_url = Some("https://assets.invalid/logo.png".into()),
        _ => {}
    }
    out
}

fn proposals(c: &ListingContent) -> Vec<(&'static str, Proposal)> {
    let mut v = vec![
        ("title", Proposal::Text(propose_title(c))),
        ("short_description", Proposal::Text(propose_short_description(c))),
        ("long_description", Proposal::Text(propose_long_description(c))),
        ("highlights", Proposal::List(propose_highlights(c))),
        ("keywords", Proposal::List(propose_keywords(c))),
    ];
    if c.logo_url.is_none() {
        v.push(("logo_url", Proposal::Add(1)));
    }
    if c.images.len() < 3 {
        v.push(("images", Proposal::Add(3 - c.images.len())));
    }
    v
}

fn describe(c: &ListingContent, field: &str, p: &Proposal) -> String {
    let quote = |s: &str| format!("'{s}'");
    match (field, p) {
        ("title", Proposal::Text(t)) => {
            let mut why = Vec::new();
            let n = chars(&c.title);
            if !(30..=70).contains(&n) {
                why.push(format!("brings the length into 30–70 characters (now {n})"));
            }
            if let Some(k) = c.keywords.first().filter(|k| !contains_ci(&c.title, k)) {
                why.push(format!("adds your primary keyword {}", quote(k)));
            }
            if shouting(&c.title) || repeated_punctuation(&c.title) {
                why.push("drops all-caps words and repeated punctuation".into());
            }
            format!("Change the title to {} ({} characters): it {}", quote(t), chars(t), join_and(&why))
        }
        ("short_description", Proposal::Text(t)) => {
            let text = searchable_text(c);
            let missing: Vec<String> =
                c.keywords.iter().filter(|k| !text.contains(&k.to_lowercase())).map(|k| quote(k)).collect();
            let mut s = format!(
                "Rewrite the short description to {} characters (80–250 score best; now {})",
                chars(t),
                chars(&c.short_description)
            );
            if !missing.is_empty() {
                s.push_str(&format!(", mentioning {}", join_and(&missing)));
            }
            format!("{s}: {}", quote(t))
        }
        ("long_description", Proposal::Text(t)) => format!(
            "Expand the long description to {} characters in {} paragraphs with sentences of 20 words or fewer (now {} characters in {})",
            chars(t),
            paragraphs(t).len(),
            chars(&c.long_description),
            paragraphs(&c.long_description).len()
        ),
        ("highlights", Proposal::List(l)) => format!(
            "Use {} highlights of 20–120 characters each (now {}): {}",
            l.len(),
            c.highlights.len(),
            l.iter().map(|h| quote(h)).collect::<Vec<_>>().join("; ")
        ),
        ("keywords", Proposal::List(l)) => {
            let added: Vec<String> = l.iter().filter(|k| !c.keywords.contains(k)).map(|k| quote(k)).collect();
            format!(
                "Add the search keyword{} {} (3 or more score best; now {})",
                if added.len() == 1 { "" } else { "s" },
                join_and(&added),
                c.keywords.len()
            )
        }
        ("logo_url", _) => "Add a logo image (logo_url)".into(),
        ("images", Proposal::Add(n)) => format!(
            "Add {n} more screenshot{} to images (now {}; 3 or more score best)",
            if *n == 1 { "" } else { "s" },
            c.images.len()
        ),
        _ => String::new(),
    }
}

pub fn recommend(c: &ListingContent) -> Recommendations {
    let current = score(c);
    let mut items = Vec::new();
    let mut everything = c.clone();
    for (field, proposal) in proposals(c) {
        let changed = apply(c, field, &proposal);
        if changed == *c {
            continue;
        }
        let after = score(&changed);
        if after.overall <= current.overall {
            continue;
        }
        everything = apply(&everything, field, &proposal);
        // The component that gains most names the recommendation's category.
        let category = Component::ALL
            .into_iter()
            .max_by_key(|comp| {
                (i64::from(after.points.of(*comp)) - i64::from(current.points.of(*comp)), std::cmp::Reverse(*comp))
            })
            .expect("five components");
        let impact = after.overall - current.overall;
        items.push(Recommendation {
            category,
            priority: priority(impact),
            field,
            suggestion: describe(c, field, &proposal),
            proposal,
            impact,
        });
    }
    items.sort_by(|a, b| b.impact.cmp(&a.impact).then(a.field.cmp(b.field)));
    let total = score(&everything).overall.saturating_sub(current.overall);
    Recommendations { items, total_potential_improvement: total }
}

/// An improved draft of the listing's copy: every text proposal that raises the score, applied.
pub fn generate_draft(c: &ListingContent) -> ListingContent {
    let mut draft = c.clone();
    for item in recommend(c).items {
        if !matches!(item.proposal, Proposal::Add(_)) {
            draft = apply(&draft, item.field, &item.proposal);
        }
    }
    draft
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::listing::ListingPatch;

    fn listing() -> ListingContent {
        ListingContent { pricing_model: "subscription".into(), marketplace: "aws".into(), ..Default::default() }
    }

    fn words(n: usize) -> String {
        vec!["word"; n].join(" ")
    }

    #[test]
    fn title_rules() {
        assert_eq!(title_length(&"x".repeat(29)), 6);
        assert_eq!(title_length(&"x".repeat(30)), 12);
        assert_eq!(title_length(&"x".repeat(70)), 12);
        assert_eq!(title_length(&"x".repeat(71)), 6);
        assert_eq!(title_length(&"x".repeat(91)), 0);
        assert_eq!(title_length("short"), 0);
        assert_eq!(title_clean("Enterprise Security Suite"), 8);
        assert_eq!(title_clean("BEST Security Suite"), 4);
        assert_eq!(title_clean("Security Suite!!"), 4);
        assert_eq!(title_clean("BEST Security Suite!?"), 0);
        assert_eq!(title_clean("AWS SIEM"), 4, "four capitals shout; three are an acronym");
        assert_eq!(title_clean("AWS IAM"), 8);
    }

    #[test]
    fn description_rules() {
        assert_eq!(short_length(&"x".repeat(79)), 4);
        assert_eq!(short_length(&"x".repeat(80)), 8);
        assert_eq!(short_length(&"x".repeat(251)), 4);
        assert_eq!(short_length(""), 0);
        assert_eq!(long_length(&"x".repeat(599)), 4);
        assert_eq!(long_length(&"x".repeat(600)), 7);
        assert_eq!(structure("one paragraph"), 0);
        assert_eq!(structure("one\n\ntwo"), 5);
        assert_eq!(readability(&format!("{}. {}.", words(20), words(20))), 5);
        assert_eq!(readability(&format!("{}.", words(21))), 2);
        assert_eq!(readability(&format!("{}.", words(31))), 0);
        assert_eq!(readability(""), 0);
        assert_eq!(
            sentences("One. Two! Three?\nFour\nv1.2 is out."),
            vec!["One.", "Two!", "Three?", "Four", "v1.2 is out."]
        );
    }

    #[test]
    fn highlight_rules() {
        let h = |n: usize, len: usize| vec!["h".repeat(len); n];
        assert_eq!(highlight_count(0), 0);
        assert_eq!(highlight_count(1), 4);
        assert_eq!(highlight_count(2), 8);
        assert_eq!(highlight_count(3), 12);
        assert_eq!(highlight_count(5), 12);
        assert_eq!(highlight_count(6), 8);
        assert_eq!(highlight_count(7), 4);
        assert_eq!(highlight_lengths(&h(3, 20)), 8);
        assert_eq!(highlight_lengths(&h(3, 121)), 0);
        let mut mixed = h(2, 30);
        mixed.extend(h(2, 5));
        assert_eq!(highlight_lengths(&mixed), 4);
        assert_eq!(highlight_lengths(&[]), 0);
    }

    #[test]
    fn keyword_rules() {
        let mut c = listing();
        c.title = "Enterprise Security Suite".into();
        c.short_description = "Stay compliant".into();
        c.keywords = vec!["compliance".into(), "security".into(), "siem".into(), "soc2".into()];
        assert_eq!(keyword_count(0), 0);
        assert_eq!(keyword_count(2), 2);
        assert_eq!(keyword_count(3), 5);
        assert_eq!(keyword_in_title(&c), 3, "another keyword, not the primary one");
        c.title = "Compliance and Security Suite".into();
        assert_eq!(keyword_in_title(&c), 5);
        // compliance, security covered; siem, soc2 not: 10 × 2/4.
        assert_eq!(keyword_coverage(&c), 5);
        c.keywords.truncate(3);
        assert_eq!(keyword_coverage(&c), 6, "floor(10 × 2/3)");
    }

    #[test]
    fn image_rules_and_breakdown() {
        let mut c = listing();
        assert_eq!(score(&c).points.of(Component::Images), 0);
        c.logo_url = Some("https://x.io/logo.png".into());
        c.images = vec!["https://x.io/1.png".into()];
        let s = score(&c);
        assert_eq!(s.points.of(Component::Images), 10);
        assert_eq!(s.points.percent(Component::Images), 67, "10 of 15, rounded");
        assert_eq!(s.breakdown()[4], (Component::Images, 67));
    }

    #[test]
    fn grades() {
        assert_eq!(
            [grade(100), grade(80), grade(79), grade(65), grade(50), grade(35), grade(34)],
            ["A", "A", "B", "B", "C", "D", "F"]
        );
    }

    fn great() -> ListingContent {
        let mut c = listing();
        c.title = "Enterprise Security Suite for Compliance".into();
        c.short_description = "Continuous compliance monitoring and threat detection for regulated teams running on AWS, with security reports.".into();
        c.long_description =
            format!("{}\n\nWe help teams with siem needs. {}", "Detect threats early. ".repeat(30), "Audits are easy.");
        c.highlights = vec![
            "Automated SOC 2 evidence collection".into(),
            "Real-time threat detection across accounts".into(),
            "One-click compliance reports".into(),
        ];
        c.categories = vec!["Security".into(), "Compliance".into()];
        c.keywords = vec!["compliance".into(), "security".into(), "siem".into()];
        c.images = vec!["https://x.io/1.png".into(), "https://x.io/2.png".into(), "https://x.io/3.png".into()];
        c.logo_url = Some("https://x.io/logo.png".into());
        c
    }

    #[test]
    fn a_complete_listing_scores_full_marks_and_needs_nothing() {
        let s = score(&great());
        assert_eq!(s.overall, 100, "{s:?}");
        assert_eq!(s.grade, "A");
        let r = recommend(&great());
        assert!(r.items.is_empty(), "{r:?}");
        assert_eq!(r.total_potential_improvement, 0);
    }

    /// A varied set of listings, from empty to nearly complete.
    fn corpus() -> Vec<ListingContent> {
        let mut out = vec![listing()];
        let g = great();
        let mut c = g.clone();
        c.title = "SECURITY!!".into();
        out.push(c);
        let mut c = g.clone();
        c.keywords = vec!["siem".into()];
        c.short_description.clear();
        out.push(c);
        let mut c = g.clone();
        c.long_description = format!("{} , {} , {}.", words(15), words(15), words(15));
        c.highlights = vec!["Fast".into(); 8];
        out.push(c);
        let mut c = g.clone();
        c.title = "A very long title that keeps going well past the length that search engines show in full".into();
        c.images.clear();
        c.logo_url = None;
        out.push(c);
        let mut c = listing();
        c.title = "Acme".into();
        c.categories = vec!["Analytics".into()];
        c.keywords = vec!["dashboards".into(), "reporting".into()];
        c.marketplace = "gcp".into();
        out.push(c);
        out
    }

    #[test]
    fn a_proposal_patches_its_own_field_and_assets_are_left_to_the_partner() {
        let p = proposal_patch("keywords", &Proposal::List(vec!["x".into()])).unwrap();
        assert_eq!(p.keywords, Some(vec!["x".to_owned()]));
        assert_eq!(p.title, None);
        let t = proposal_patch("title", &Proposal::Text("Suite".into())).unwrap();
        assert_eq!(t.title.as_deref(), Some("Suite"));
        assert!(proposal_patch("images", &Proposal::Add(2)).is_none());
        assert!(proposal_patch("logo_url", &Proposal::Add(1)).is_none());
        assert!(proposal_patch("title", &Proposal::List(vec![])).is_none(), "a proposal of the wrong shape");
    }

    #[test]
    fn every_impact_is_the_score_change_when_applied_through_validation() {
        for c in corpus() {
            let before = score(&c).overall;
            let recs = recommend(&c);
            for r in &recs.items {
                assert!(r.impact > 0);
                let patch = match (&r.proposal, r.field) {
                    (Proposal::Text(_) | Proposal::List(_), field) => proposal_patch(field, &r.proposal)
                        .unwrap_or_else(|| panic!("no patch for the proposal to {field}")),
                    (Proposal::Add(n), "images") => {
                        let mut imgs = c.images.clone();
                        imgs.extend((0..*n).map(|i| format!("https://cdn.example.com/s{i}.png")));
                        ListingPatch { images: Some(imgs), ..Default::default() }
                    }
                    (Proposal::Add(_), "logo_url") => ListingPatch {
                        logo_url: Some(Some("https://cdn.example.com/l.png".into())),
                        ..Default::default()
                    },
                    other => panic!("unexpected proposal {other:?}"),
                };
                let applied = patch.apply(&c).unwrap_or_else(|e| panic!("proposal for {} is invalid: {e}", r.field));
                assert_eq!(score(&applied).overall, before + r.impact, "{}: {}", r.field, r.suggestion);
                assert!(!r.suggestion.is_empty());
                assert_eq!(r.priority, priority(r.impact));
            }
            let mut all = c.clone();
            for r in &recs.items {
                all = apply(&all, r.field, &r.proposal);
            }
            assert_eq!(score(&all).overall, before + recs.total_potential_improvement);
        }
    }

    #[test]
    fn suggestions_are_specific() {
        let mut c = great();
        c.title = "Enterprise Security Suite for Teams".into();
        let r = recommend(&c);
        let title = r.items.iter().find(|i| i.field == "title").expect("title recommendation");
        assert_eq!(title.category, Component::Keywords);
        assert!(title.suggestion.contains("'compliance'"), "{}", title.suggestion);
        assert!(title.suggestion.contains("'Enterprise Security Suite for Teams for Compliance'"));
        assert_eq!(title.impact, 2, "primary keyword in title: 3 → 5");
        // A short title gains length points too, so the title itself is the category.
        c.title = "Enterprise Security Suite".into();
        let title = recommend(&c).items.into_iter().find(|i| i.field == "title").unwrap();
        assert_eq!((title.category, title.impact), (Component::Title, 8));
        let mut c = great();
        c.images.truncate(1);
        let r = recommend(&c);
        assert_eq!(r.items[0].suggestion, "Add 2 more screenshots to images (now 1; 3 or more score best)");
        assert_eq!((r.items[0].impact, r.items[0].priority, r.items[0].category), (5, "medium", Component::Images));
    }

    #[test]
    fn a_generated_draft_never_scores_lower_and_keeps_assets() {
        for c in corpus() {
            let draft = generate_draft(&c);
            assert!(score(&draft).overall >= score(&c).overall);
            assert_eq!((draft.images.clone(), draft.logo_url.clone()), (c.images.clone(), c.logo_url.clone()));
            assert_eq!(generate_draft(&c), draft, "deterministic");
        }
        assert!(score(&generate_draft(&corpus()[0])).overall > score(&corpus()[0]).overall);
    }

    #[test]
    fn cleaning_a_title_removes_shouting_and_punctuation_runs() {
        assert_eq!(clean_title("SECURITY SUITE!!"), "Security Suite");
        assert_eq!(clean_title("Is it safe?  AWS IAM  tool"), "Is it safe? AWS IAM tool");
        assert_eq!(clean_title("Save $$$ now"), "Save now");
    }

    #[test]
    fn truncation_respects_words() {
        assert_eq!(truncate_words("alpha beta gamma", 11), "alpha beta");
        assert_eq!(truncate_words("alpha beta", 50), "alpha beta");
        assert_eq!(truncate_words("supercalifragilistic", 5), "super");
    }
}
