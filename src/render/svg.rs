//! What osilab's SVG figures share: an [`Svg`] writer (rectangles, lines, text with an optional
//! `<title>` tooltip), XML escaping, the per-layer colours and a text-width estimate for the
//! monospace labels, so that a label that would not fit its box is shortened with "…".
//!
//! Everything is written by hand with [`std::fmt::Write`]; numbers are printed with at most one
//! decimal, so the same drawing gives byte-identical SVG. Text is escaped for XML 1.0 (W3C XML
//! 1.0 §2.2 "Characters", §2.4 "Character Data"): `& < > " '` as entities, and the characters XML
//! 1.0 does not allow at all (C0 controls other than tab, LF and CR; U+FFFE, U+FFFF) as U+FFFD.

use std::fmt::Write as _;

/// The width of every figure, in pixels (it fits a book page and a browser window).
pub const WIDTH: f64 = 900.0;

/// The monospace font the labels use: its advance is 0.6 em in all of these, which
/// [`text_width`] counts on.
pub const MONO: &str = "'DejaVu Sans Mono', Menlo, Consolas, 'Liberation Mono', monospace";

/// The colours of one layer: a strong one for lines and text, a fill for what the layer adds
/// (headers and trailers) and a light fill for what it carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Colours {
    /// Lines, arrows, the layer's name.
    pub strong: &'static str,
    /// Headers and trailers.
    pub fill: &'static str,
    /// The payload the layer carries.
    pub light: &'static str,
}

/// The colours of layer `n` (1–7); grey for anything else.
pub fn colours(n: u8) -> Colours {
    let (strong, fill, light) = match n {
        7 => ("#7b3f8c", "#d9b8e3", "#f3e8f6"),
        6 => ("#b0406a", "#f4bfd0", "#fcecf1"),
        5 => ("#8a6d00", "#f2dc8a", "#fbf4d9"),
        4 => ("#2f7a2f", "#b5dfb0", "#e7f5e5"),
        3 => ("#2a5d91", "#b3cbe8", "#e6eef8"),
        2 => ("#b35c00", "#f8cc9c", "#fdeedd"),
        1 => ("#555555", "#cfcfcf", "#efefef"),
        _ => ("#666666", "#dddddd", "#f4f4f4"),
    };
    Colours { strong, fill, light }
}

/// `s` escaped as XML character data or an attribute value.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(' '),
            // Not a Char in XML 1.0 (§2.2), not even as a reference.
            c if u32::from(c) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// How many monospace columns `c` takes: two for the East Asian wide and full-width ranges and
/// most emoji, none for combining marks, one otherwise (a close reading of Unicode UAX #11).
fn columns(c: char) -> usize {
    match u32::from(c) {
        0x0300..=0x036f | 0x200b..=0x200f | 0xfe00..=0xfe0f => 0,
        0x1100..=0x115f
        | 0x2e80..=0xa4cf
        | 0xac00..=0xd7a3
        | 0xf900..=0xfaff
        | 0xfe30..=0xfe4f
        | 0xff00..=0xff60
        | 0xffe0..=0xffe6
        | 0x1f300..=0x1f64f
        | 0x1f900..=0x1f9ff
        | 0x20000..=0x3fffd => 2,
        _ => 1,
    }
}

/// Slack for rounding when a width is compared with the room for it.
const EPS: f64 = 1e-6;

/// The width of `s` in the monospace font at `size` pixels.
pub fn text_width(s: &str, size: f64) -> f64 {
    s.chars().map(columns).sum::<usize>() as f64 * 0.6 * size
}

/// `s` if it fits in `max` pixels at `size`, else its start and "…".
pub fn fit(s: &str, max: f64, size: f64) -> String {
    if text_width(s, size) <= max + EPS {
        return s.to_string();
    }
    let room = max - text_width("…", size);
    let mut out = String::new();
    let mut used = 0.0;
    for c in s.chars() {
        let w = columns(c) as f64 * 0.6 * size;
        if used + w > room + EPS {
            break;
        }
        used += w;
        out.push(c);
    }
    // An ellipsis after white space reads as a gap.
    let kept = out.trim_end().len();
    out.truncate(kept);
    if out.is_empty() {
        return String::new();
    }
    out.push('…');
    out
}

/// The first of `choices` that fits in `max` pixels at `size`, else the last one shortened.
pub fn fit_first(choices: &[&str], max: f64, size: f64) -> String {
    choices
        .iter()
        .find(|c| text_width(c, size) <= max + EPS)
        .map(|c| c.to_string())
        .unwrap_or_else(|| fit(choices.last().copied().unwrap_or(""), max, size))
}

/// A coordinate or length: at most one decimal, no trailing ".0", never "-0".
pub fn num(v: f64) -> String {
    let r = (v * 10.0).round() / 10.0;
    if r == 0.0 || !r.is_finite() {
        return "0".into();
    }
    if r.fract() == 0.0 {
        format!("{r:.0}")
    } else {
        format!("{r:.1}")
    }
}

/// How a text is anchored at its x.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    /// x is where the text starts.
    Start,
    /// x is the text's middle.
    Middle,
    /// x is where the text ends.
    End,
}

impl Anchor {
    fn word(self) -> &'static str {
        match self {
            Anchor::Start => "start",
            Anchor::Middle => "middle",
            Anchor::End => "end",
        }
    }
}

/// An SVG document being written: a fixed width, the height given when it is finished.
#[derive(Debug, Default)]
pub struct Svg {
    body: String,
}

impl Svg {
    /// An empty drawing.
    pub fn new() -> Svg {
        Svg::default()
    }

    /// Write raw markup (already escaped).
    pub fn raw(&mut self, s: &str) {
        self.body.push_str(s);
    }

    /// A rectangle; `extra` is more attributes (already escaped), `title` a tooltip.
    #[allow(clippy::too_many_arguments)]
    pub fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: &str, stroke: &str, extra: &str, title: Option<&str>) {
        let _ = write!(
            self.body,
            r#"<rect x="{}" y="{}" width="{}" height="{}" fill="{fill}" stroke="{stroke}"{}{extra}"#,
            num(x),
            num(y),
            num(w.max(0.0)),
            num(h.max(0.0)),
            if extra.is_empty() { "" } else { " " },
        );
        self.close("rect", title);
    }

    /// A straight line.
    pub fn line(&mut self, (x1, y1): (f64, f64), (x2, y2): (f64, f64), stroke: &str, extra: &str) {
        let _ = writeln!(
            self.body,
            r#"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{stroke}"{}{extra}/>"#,
            num(x1),
            num(y1),
            num(x2),
            num(y2),
            if extra.is_empty() { "" } else { " " },
        );
    }

    /// A filled polygon through `points`.
    pub fn polygon(&mut self, points: &[(f64, f64)], fill: &str) {
        let pts: Vec<String> = points.iter().map(|(x, y)| format!("{},{}", num(*x), num(*y))).collect();
        let _ = writeln!(self.body, r#"<polygon points="{}" fill="{fill}"/>"#, pts.join(" "));
    }

    /// One line of text (escaped here) of class `class` (see the style sheet of [`Svg::finish`]).
    #[allow(clippy::too_many_arguments)]
    pub fn text(&mut self, x: f64, y: f64, class: &str, anchor: Anchor, fill: &str, text: &str, title: Option<&str>) {
        self.text_rotated(x, y, 0.0, class, anchor, fill, text, title);
    }

    /// As [`Svg::text`], turned by `degrees` (clockwise, about its anchor point).
    #[allow(clippy::too_many_arguments)]
    pub fn text_rotated(
        &mut self,
        x: f64,
        y: f64,
        degrees: f64,
        class: &str,
        anchor: Anchor,
        fill: &str,
        text: &str,
        title: Option<&str>,
    ) {
        let _ = write!(self.body, r#"<text x="{}" y="{}" class="{class}""#, num(x), num(y));
        if num(degrees) != "0" {
            let _ = write!(self.body, r#" transform="rotate({} {} {})""#, num(degrees), num(x), num(y));
        }
        if anchor != Anchor::Start {
            let _ = write!(self.body, r#" text-anchor="{}""#, anchor.word());
        }
        if !fill.is_empty() {
            let _ = write!(self.body, r#" fill="{fill}""#);
        }
        match title {
            Some(t) => {
                let _ = writeln!(self.body, "><title>{}</title>{}</text>", escape(t), escape(text));
            }
            None => {
                let _ = writeln!(self.body, ">{}</text>", escape(text));
            }
        }
    }

    /// Open a group with a tooltip (`<g><title>…</title>`); close it with [`Svg::end_group`].
    pub fn group(&mut self, title: &str) {
        let _ = writeln!(self.body, "<g><title>{}</title>", escape(title));
    }

    /// Close a group opened with [`Svg::group`].
    pub fn end_group(&mut self) {
        self.body.push_str("</g>\n");
    }

    fn close(&mut self, element: &str, title: Option<&str>) {
        match title {
            Some(t) => {
                let _ = writeln!(self.body, "><title>{}</title></{element}>", escape(t));
            }
            None => self.body.push_str("/>\n"),
        }
    }

    /// The whole document: `height` pixels high, with `title` as its `<title>` (what a browser
    /// tab and a screen reader show) and the style sheet of the text classes.
    pub fn finish(self, height: f64, title: &str) -> String {
        let h = num(height.ceil());
        let w = num(WIDTH);
        let mut out = String::with_capacity(self.body.len() + 1024);
        let _ = writeln!(
            out,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img">"#
        );
        let _ = writeln!(out, "<title>{}</title>", escape(title));
        let _ = writeln!(
            out,
            "<style>\n\
             text {{ font-family: {MONO}; font-size: 11px; fill: #222222; }}\n\
             .title {{ font-family: 'DejaVu Sans', Arial, Helvetica, sans-serif; font-size: 16px; font-weight: bold; }}\n\
             .sub {{ font-family: 'DejaVu Sans', Arial, Helvetica, sans-serif; font-size: 12px; fill: #444444; }}\n\
             .layer {{ font-family: 'DejaVu Sans', Arial, Helvetica, sans-serif; font-size: 12px; font-weight: bold; }}\n\
             .small {{ font-size: 10px; }}\n\
             .bold {{ font-weight: bold; }}\n\
             .halo {{ paint-order: stroke; stroke: #ffffff; stroke-width: 3px; stroke-linejoin: round; }}\n\
             </style>"
        );
        let _ = writeln!(out, r##"<rect x="0" y="0" width="{w}" height="{h}" fill="#ffffff"/>"##);
        out.push_str(&self.body);
        out.push_str("</svg>\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_makes_text_safe_for_xml() {
        assert_eq!(escape(r#"<a href="x">&'</a>"#), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
        assert_eq!(escape("Olá\u{1}\u{ffff}\tz"), "Olá\u{fffd}\u{fffd} z");
    }

    #[test]
    fn fit_shortens_with_an_ellipsis() {
        // 11 px monospace: 6.6 px a column.
        assert_eq!(fit("abcdef", 6.6 * 6.0, 11.0), "abcdef");
        assert_eq!(fit("abc def", 6.6 * 5.0, 11.0), "abc…");
        assert_eq!(fit("abcdef", 1.0, 11.0), "");
        // A wide character takes two columns.
        assert_eq!(text_width("日本", 10.0), 24.0);
        assert_eq!(fit_first(&["TCP header", "TCP hdr", "TCP"], 6.6 * 7.0, 11.0), "TCP hdr");
    }

    #[test]
    fn numbers_have_one_decimal_at_most() {
        assert_eq!(num(12.0), "12");
        assert_eq!(num(12.345), "12.3");
        assert_eq!(num(-0.01), "0");
        assert_eq!(num(f64::NAN), "0");
    }

    #[test]
    fn a_document_has_its_size_and_escaped_title() {
        let mut s = Svg::new();
        s.text(1.0, 2.0, "sub", Anchor::Middle, "", "a<b", Some("t&t"));
        let doc = s.finish(99.5, "x & y");
        assert!(doc
            .starts_with(r#"<svg xmlns="http://www.w3.org/2000/svg" width="900" height="100" viewBox="0 0 900 100""#));
        assert!(doc.contains("<title>x &amp; y</title>"));
        assert!(doc.contains(r#"text-anchor="middle"><title>t&amp;t</title>a&lt;b</text>"#), "{doc}");
    }
}
