//! The HTML of a `:::widget`: native controls for every parameter and the default figure, rendered by the
//! widget itself at build time so the page reads without JavaScript.
//!
//! The markup is the contract in docs/CONTRACTS.md ("Lesson widget HTML"); the front-end script finds the
//! figure by `data-widget`/`data-instance`, reads the form's named controls and replaces the contents of
//! `.widget-figure`, `.widget-numbers` and `.widget-description` on every input event.

use std::fmt::Write as _;

use dlf_widgets::{Figure, ParamKind, Params, Value, Widget};

use crate::html::escape;

/// Renders the figure element for widget `widget` as instance `instance` with validated `params`.
pub(crate) fn render(
    widget: &dyn Widget,
    instance: &str,
    caption: &str,
    params: &Params,
) -> String {
    let spec = widget.spec();
    let figure: Figure = widget.render(params);
    let instance = escape(instance);
    let mut html = String::new();
    // `write!` into a String cannot fail; the results are ignored on purpose.
    let _ = writeln!(
        html,
        r#"<figure class="widget" id="w-{instance}" data-widget="{id}" data-instance="{instance}">"#,
        id = escape(spec.id)
    );
    let _ = writeln!(
        html,
        r#"  <figcaption class="widget-title">{} — {}</figcaption>"#,
        escape(spec.title),
        escape(caption)
    );
    html.push_str("  <form class=\"widget-controls\">\n");
    for param in spec.params {
        let control_id = format!("w-{instance}-{}", escape(param.name));
        let name = escape(param.name);
        let label = escape(param.label);
        let value = params
            .get(param.name)
            .unwrap_or_else(|| param.kind.default_value());
        match &param.kind {
            ParamKind::Range { min, max, step, .. } => {
                let shown = escape(&value.to_query_value());
                let _ = writeln!(
                    html,
                    r#"    <div class="control"><label for="{control_id}">{label}</label>
      <input type="range" id="{control_id}" name="{name}" min="{min}" max="{max}" step="{step}" value="{shown}">
      <output for="{control_id}">{shown}</output></div>"#,
                    min = escape(&Value::Number(*min).to_query_value()),
                    max = escape(&Value::Number(*max).to_query_value()),
                    step = escape(&Value::Number(*step).to_query_value()),
                );
            }
            ParamKind::Select { options, .. } => {
                let chosen = value.to_query_value();
                let _ = write!(
                    html,
                    r#"    <div class="control"><label for="{control_id}">{label}</label><select id="{control_id}" name="{name}">"#
                );
                for (option_value, option_label) in options.iter() {
                    let selected = if *option_value == chosen {
                        " selected"
                    } else {
                        ""
                    };
                    let _ = write!(
                        html,
                        r#"<option value="{}"{selected}>{}</option>"#,
                        escape(option_value),
                        escape(option_label)
                    );
                }
                html.push_str("</select></div>\n");
            }
            ParamKind::Toggle { .. } => {
                let checked = if value == Value::Flag(true) {
                    " checked"
                } else {
                    ""
                };
                let _ = writeln!(
                    html,
                    r#"    <div class="control"><input type="checkbox" id="{control_id}" name="{name}"{checked}><label for="{control_id}">{label}</label></div>"#
                );
            }
            ParamKind::Text { max_len, .. } => {
                // A browser counts `maxlength` in UTF-16 code units, never fewer than the characters the spec
                // counts, so it never cuts a text the widget would admit short of the limit by more than the
                // astral characters in it; the widget still validates the length itself.
                // The HTML parser drops one newline right after `<textarea>`, so one is always written there:
                // a text that starts with a newline keeps it.
                let text = escape(&value.to_query_value());
                let rows = if *max_len > 200 { 6 } else { 2 };
                let _ = writeln!(
                    html,
                    r#"    <div class="control text"><label for="{control_id}">{label}</label>
      <textarea id="{control_id}" name="{name}" rows="{rows}" maxlength="{max_len}" spellcheck="false">
{text}</textarea></div>"#
                );
            }
        }
    }
    html.push_str("  </form>\n");
    let _ = writeln!(html, r#"  <div class="widget-figure">{}</div>"#, figure.svg);
    html.push_str(r#"  <dl class="widget-numbers">"#);
    for (label, value) in &figure.numbers {
        let _ = write!(
            html,
            "<div><dt>{}</dt><dd>{}</dd></div>",
            escape(label),
            escape(value)
        );
    }
    html.push_str("</dl>\n");
    let _ = writeln!(
        html,
        r#"  <p class="widget-description" aria-live="polite">{}</p>"#,
        escape(&figure.description)
    );
    html.push_str("</figure>");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_parameter_is_a_text_area_holding_the_escaped_text() {
        let widget = dlf_widgets::find("bpe-steps").expect("a widget with a text parameter");
        let params =
            dlf_widgets::parse_params(widget.spec(), &[("corpus", "\nlow <lower> & \"newest\"")])
                .expect("a valid text");
        let html = render(widget, "x", "caption", &params);
        // One newline after the tag, which the HTML parser drops, so the text's own leading newline survives.
        assert!(
            html.contains(
                "<textarea id=\"w-x-corpus\" name=\"corpus\" rows=\"6\" maxlength=\"2000\" spellcheck=\"false\">\n\nlow &lt;lower&gt; &amp; &quot;newest&quot;</textarea>"
            ),
            "{html}"
        );
        assert!(html.contains("<div class=\"control text\"><label for=\"w-x-corpus\">"));
    }
}
