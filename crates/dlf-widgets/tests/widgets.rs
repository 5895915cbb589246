//! Integration tests over every registered widget: parameter validation, rendering at defaults and at
//! the corners of the parameter space, sensitivity to every parameter, JSON output, query round trips,
//! and well-formed SVG.

use dlf_widgets::{
    longest_text, parse_params, registry, render_query, Figure, ParamError, ParamKind, Params,
    Widget, WidgetError,
};

/// A tiny XML well-formedness checker for our SVG: every tag closes in order, attribute values are
/// quoted, text contains no raw `<` and only the five predefined entities or numeric references.
fn check_well_formed(svg: &str) -> Result<(), String> {
    let mut stack: Vec<&str> = Vec::new();
    let mut rest = svg;
    let mut seen_root = false;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('<') {
            let end = after.find('>').ok_or("unterminated tag")?;
            let tag = &after[..end];
            rest = &after[end + 1..];
            if let Some(name) = tag.strip_prefix('/') {
                let open = stack.pop().ok_or_else(|| format!("stray </{name}>"))?;
                if open != name {
                    return Err(format!("<{open}> closed by </{name}>"));
                }
                continue;
            }
            let self_closing = tag.ends_with('/');
            let body = tag.trim_end_matches('/');
            let name_end = body.find(|c: char| c.is_whitespace()).unwrap_or(body.len());
            let name = &body[..name_end];
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(format!("bad tag name in <{tag}>"));
            }
            check_attributes(&body[name_end..]).map_err(|e| format!("<{name}>: {e}"))?;
            if stack.is_empty() {
                if seen_root {
                    return Err("content after the root element".into());
                }
                seen_root = true;
            }
            if !self_closing {
                stack.push(name);
            }
        } else {
            let end = rest.find('<').unwrap_or(rest.len());
            check_text(&rest[..end])?;
            if stack.is_empty() && !rest[..end].trim().is_empty() {
                return Err("text outside the root element".into());
            }
            rest = &rest[end..];
        }
    }
    if let Some(open) = stack.pop() {
        return Err(format!("<{open}> never closed"));
    }
    if !seen_root {
        return Err("no root element".into());
    }
    Ok(())
}

fn check_attributes(mut s: &str) -> Result<(), String> {
    loop {
        s = s.trim_start();
        if s.is_empty() {
            return Ok(());
        }
        let eq = s.find('=').ok_or("attribute without value")?;
        let name = &s[..eq];
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(format!("bad attribute name `{name}`"));
        }
        let value = s[eq + 1..].strip_prefix('"').ok_or("unquoted attribute")?;
        let close = value.find('"').ok_or("unterminated attribute")?;
        check_text(&value[..close])?;
        s = &value[close + 1..];
    }
}

fn check_text(s: &str) -> Result<(), String> {
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        let after = &rest[i + 1..];
        let semi = after.find(';').ok_or("unterminated entity")?;
        let entity = &after[..semi];
        let ok = matches!(entity, "amp" | "lt" | "gt" | "quot" | "apos")
            || entity
                .strip_prefix('#')
                .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
        if !ok {
            return Err(format!("unknown entity &{entity};"));
        }
        rest = &after[semi + 1..];
    }
    if s.contains('>') {
        return Err("raw `>` in text".into());
    }
    Ok(())
}

#[test]
fn the_checker_rejects_malformed_svg() {
    assert!(check_well_formed("<svg><g></g></svg>").is_ok());
    assert!(check_well_formed("<svg><g></svg>").is_err());
    assert!(check_well_formed("<svg><rect x=1/></svg>").is_err());
    assert!(check_well_formed("<svg><text>a &b</text></svg>").is_err());
    assert!(check_well_formed("<svg></svg><svg></svg>").is_err());
    assert!(check_well_formed("<svg><text>a &amp; b</text></svg>").is_ok());
}

/// The only references a figure may contain: `url(#ID)` of a mask the same figure defines, whose id is
/// `dlf-m` and 16 hex digits (named after its content) and defined once, and `href` to an inline
/// `data:image/png;base64,` image. Anything else could reach outside the figure.
fn check_references(svg: &str) -> Result<(), String> {
    let is_mask_id = |id: &str| {
        id.len() == 21 && id.starts_with("dlf-m") && id[5..].bytes().all(|b| b.is_ascii_hexdigit())
    };
    let mut ids: Vec<&str> = Vec::new();
    for (at, _) in svg.match_indices(" id=\"") {
        let rest = &svg[at + 5..];
        let id = &rest[..rest.find('"').ok_or("unterminated id")?];
        if !is_mask_id(id) {
            return Err(format!("unexpected id {id:?}"));
        }
        if ids.contains(&id) {
            return Err(format!("id {id:?} defined twice"));
        }
        ids.push(id);
    }
    for (at, _) in svg.match_indices("url(") {
        let rest = &svg[at + 4..];
        let target = &rest[..rest.find(')').ok_or("unterminated url(")?];
        let id = target
            .strip_prefix('#')
            .ok_or_else(|| format!("external reference url({target})"))?;
        if !ids.contains(&id) {
            return Err(format!("url({target}) names no mask of this figure"));
        }
    }
    for (at, _) in svg.match_indices("href=") {
        let rest = &svg[at + 5..];
        let value = rest
            .strip_prefix("\"data:image/png;base64,")
            .ok_or_else(|| {
                format!(
                    "href to something other than an inline PNG: {}",
                    &rest[..rest.len().min(40)]
                )
            })?;
        let end = value.find('"').ok_or("unterminated href")?;
        if !value[..end]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'=')
        {
            return Err("the inline PNG is not base64".into());
        }
    }
    if svg.contains("src=") || svg.contains("@import") {
        return Err("external reference".into());
    }
    Ok(())
}

#[test]
fn the_reference_checker_allows_only_own_masks_and_inline_pngs() {
    let mask = r#"<mask id="dlf-m0123456789abcdef"><image href="data:image/png;base64,iVBO+/w=="/></mask>"#;
    let ok = format!(r#"<svg>{mask}<rect mask="url(#dlf-m0123456789abcdef)"/></svg>"#);
    assert!(check_references(&ok).is_ok());
    assert!(check_references("<svg><rect/></svg>").is_ok());
    for bad in [
        r#"<svg><rect mask="url(#dlf-m0123456789abcdef)"/></svg>"#.to_string(),
        r#"<svg><rect fill="url(https://example.org/x.svg#p)"/></svg>"#.to_string(),
        r#"<svg><image href="https://example.org/a.png"/></svg>"#.to_string(),
        r#"<svg><image href="data:image/svg+xml;base64,AAAA"/></svg>"#.to_string(),
        r#"<svg><g id="main"/></svg>"#.to_string(),
        format!("<svg>{mask}{mask}</svg>"),
    ] {
        assert!(check_references(&bad).is_err(), "{bad}");
    }
}

/// The checks every rendered figure must pass.
fn assert_sound(widget: &dyn Widget, params: &Params, fig: &Figure) {
    let id = widget.spec().id;
    let q = params.to_query();
    assert!(fig.svg.starts_with("<svg "), "{id} {q}: not an svg");
    assert!(fig.svg.contains("role=\"img\""), "{id} {q}: no role");
    assert!(fig.svg.contains("<title>"), "{id} {q}: no title");
    assert!(!fig.svg.contains("NaN"), "{id} {q}: NaN in the SVG");
    assert!(!fig.svg.contains("inf\""), "{id} {q}: infinity in the SVG");
    if let Err(e) = check_references(&fig.svg) {
        panic!("{id} {q}: {e}");
    }
    if let Err(e) = check_well_formed(&fig.svg) {
        panic!("{id} {q}: malformed SVG: {e}");
    }
    assert!(
        fig.description.len() > 40,
        "{id} {q}: description too short: {}",
        fig.description
    );
    assert!(
        !fig.description.contains("NaN"),
        "{id} {q}: {}",
        fig.description
    );
    assert!(!fig.numbers.is_empty(), "{id} {q}: no numbers");
    for (label, value) in &fig.numbers {
        assert!(
            !label.is_empty() && !value.is_empty(),
            "{id} {q}: empty number"
        );
        assert!(!value.contains("NaN"), "{id} {q}: {label} = {value}");
    }
}

fn range_bounds(kind: &ParamKind) -> Option<(f64, f64)> {
    match *kind {
        ParamKind::Range { min, max, .. } => Some((min, max)),
        _ => None,
    }
}

fn fmt(x: f64) -> String {
    format!("{x}")
}

/// Parameter sets at the corners: every range at its minimum, then every range at its maximum, each
/// time with the selects set to their `k`-th option (cycling) and toggles alternating.
fn corners(widget: &dyn Widget) -> Vec<Vec<(String, String)>> {
    let spec = widget.spec();
    let widest_select = spec
        .params
        .iter()
        .filter_map(|p| match p.kind {
            ParamKind::Select { options, .. } => Some(options.len()),
            _ => None,
        })
        .max()
        .unwrap_or(1);
    let mut sets = Vec::new();
    for k in 0..widest_select.max(2) {
        for at_max in [false, true] {
            let pairs = spec
                .params
                .iter()
                .map(|p| {
                    let v = match p.kind {
                        ParamKind::Range { min, max, .. } => fmt(if at_max { max } else { min }),
                        ParamKind::Select { options, .. } => {
                            options[k % options.len()].0.to_string()
                        }
                        ParamKind::Toggle { .. } => (k % 2 == 0).to_string(),
                        // A text's "minimum" is the empty text, its "maximum" the longest admitted.
                        ParamKind::Text { default, max_len } => {
                            if at_max {
                                longest_text(default, max_len)
                            } else {
                                String::new()
                            }
                        }
                    };
                    (p.name.to_string(), v)
                })
                .collect();
            sets.push(pairs);
        }
    }
    sets
}

fn render_pairs(widget: &dyn Widget, pairs: &[(String, String)]) -> (Params, Figure) {
    let refs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let params = parse_params(widget.spec(), &refs).expect("corner values are valid");
    let fig = widget.render(&params);
    (params, fig)
}

#[test]
fn registry_ids_are_unique_and_specs_consistent() {
    let ids: Vec<&str> = registry().iter().map(|w| w.spec().id).collect();
    for (i, id) in ids.iter().enumerate() {
        assert!(
            !ids[..i].contains(id),
            "widget id `{id}` is registered twice"
        );
        let topic = dlf_widgets::topic_of(id).expect("every registered widget has a lesson folder");
        assert!(
            dlf_engine::lessons::find(topic).is_some(),
            "widget `{id}` sits in lessons/{topic}/, which the engine does not register as a lesson topic"
        );
    }
    for w in registry() {
        let spec = w.spec();
        assert!(!spec.title.is_empty() && !spec.summary.is_empty());
        for p in spec.params {
            assert!(!p.label.is_empty() && !p.help.is_empty(), "{}", p.name);
            match p.kind {
                ParamKind::Range {
                    min,
                    max,
                    step,
                    default,
                } => {
                    assert!(min < max && step > 0.0, "{}", p.name);
                    assert!((min..=max).contains(&default), "{}", p.name);
                    // The slider grid must land on the maximum: (max - min) / step is an integer.
                    let n = (max - min) / step;
                    assert!((n - n.round()).abs() < 1e-9, "{}", p.name);
                }
                ParamKind::Select { options, default } => {
                    assert!(options.iter().any(|(v, _)| *v == default), "{}", p.name);
                }
                ParamKind::Toggle { .. } => {}
                ParamKind::Text { default, max_len } => {
                    assert!(
                        default.chars().count() <= max_len,
                        "{}: the default text is longer than max_len",
                        p.name
                    );
                    assert!(
                        parse_params(spec, &[(p.name, default)]).is_ok(),
                        "{}: the default text is admitted",
                        p.name
                    );
                }
            }
        }
    }
}

#[test]
fn defaults_parse_and_render() {
    for w in registry() {
        let params = parse_params(w.spec(), &[]).expect("defaults are valid");
        assert_eq!(params, Params::defaults(w.spec()));
        let fig = w.render(&params);
        assert_sound(*w, &params, &fig);
    }
}

#[test]
fn every_bad_input_is_rejected_naming_the_parameter() {
    for w in registry() {
        let spec = w.spec();
        let err = parse_params(spec, &[("no_such_param", "1")]).unwrap_err();
        assert!(matches!(err, ParamError::Unknown { ref name, .. } if name == "no_such_param"));
        for p in spec.params {
            let mut bad: Vec<String> = Vec::new();
            match p.kind {
                ParamKind::Range { min, max, step, .. } => {
                    bad.extend(["abc".into(), "".into(), "inf".into(), "NaN".into()]);
                    bad.push(fmt(min - step));
                    bad.push(fmt(max + step));
                }
                ParamKind::Select { .. } => bad.extend(["not-an-option".into(), "".into()]),
                ParamKind::Toggle { .. } => bad.extend(["maybe".into(), "".into()]),
                ParamKind::Text { max_len, .. } => {
                    bad.push("é".repeat(max_len + 1));
                    bad.extend(["a\u{1}b".into(), "line\r\nline".into(), "\u{7f}".into()]);
                }
            }
            for value in &bad {
                let err = parse_params(spec, &[(p.name, value.as_str())]).unwrap_err();
                let msg = err.to_string();
                assert!(
                    msg.contains(&format!("`{}`", p.name)),
                    "{}: `{value}` gave `{msg}`",
                    spec.id
                );
                // The same error surfaces through the query path.
                let q = format!("widget={}&{}={}", spec.id, p.name, value);
                assert_eq!(render_query(&q).unwrap_err(), WidgetError::Param(err));
            }
        }
    }
}

#[test]
fn every_widget_renders_at_the_corners() {
    for w in registry() {
        for pairs in corners(*w) {
            let (params, fig) = render_pairs(*w, &pairs);
            assert_sound(*w, &params, &fig);
        }
    }
}

/// The text every text parameter is set to when checking that each parameter changes the figure: words,
/// repeats, digits, punctuation, a newline and non-ASCII letters, so that a widget that reads text (a corpus, a
/// sentence) has something different from its default to count and segment.
const TEST_TEXT: &str = "Zwölf Boxkämpfer jagen Viktor quer über den Sylter Deich; 12 + 30 = 42.\n\
the the the end.";

#[test]
fn every_parameter_changes_the_figure() {
    for w in registry() {
        let spec = w.spec();
        let base = w.render(&Params::defaults(spec));
        for p in spec.params {
            let other = match p.kind {
                ParamKind::Range {
                    min, max, default, ..
                } => {
                    // Move to whichever end is further from the default.
                    fmt(if default - min > max - default {
                        min
                    } else {
                        max
                    })
                }
                ParamKind::Select { options, default } => options
                    .iter()
                    .find(|(v, _)| *v != default)
                    .expect("a select has a second option")
                    .0
                    .to_string(),
                ParamKind::Toggle { default } => (!default).to_string(),
                ParamKind::Text { max_len, .. } => TEST_TEXT.chars().take(max_len).collect(),
            };
            let params = parse_params(spec, &[(p.name, other.as_str())]).unwrap();
            let fig = w.render(&params);
            assert!(
                fig.svg != base.svg,
                "{}: changing `{}` to {other} left the SVG unchanged",
                spec.id,
                p.name
            );
            assert!(
                fig.numbers != base.numbers || fig.description != base.description,
                "{}: changing `{}` to {other} left numbers and description unchanged",
                spec.id,
                p.name
            );
        }
    }
}

#[test]
fn rendering_is_deterministic() {
    for w in registry() {
        let p = Params::defaults(w.spec());
        assert_eq!(w.render(&p), w.render(&p), "{}", w.spec().id);
    }
}

#[test]
fn query_round_trip_with_percent_encoding() {
    for w in registry() {
        let spec = w.spec();
        let params = Params::defaults(spec);
        let fig = render_query(&params.to_query()).unwrap();
        assert_eq!(fig, w.render(&params), "{}", spec.id);
        // Texts at their longest, whose newlines and non-ASCII letters must survive the percent-encoding.
        let texts: Vec<(&str, String)> = spec
            .params
            .iter()
            .filter_map(|p| match p.kind {
                ParamKind::Text { default, max_len } => {
                    Some((p.name, longest_text(default, max_len)))
                }
                _ => None,
            })
            .collect();
        if !texts.is_empty() {
            let refs: Vec<(&str, &str)> = texts.iter().map(|(n, v)| (*n, v.as_str())).collect();
            let params = parse_params(spec, &refs).unwrap();
            let fig = render_query(&params.to_query()).unwrap();
            assert_eq!(fig, w.render(&params), "{}", spec.id);
        }
    }
    // Hand-encoded: `%2D` is `-`, `%2E` is `.`, and `+`-encoded spaces around a value are trimmed.
    let encoded =
        render_query("widget=mlp%2Dtrainer&log10_lr=%2D1%2E5&activation=tanh&steps=+50+").unwrap();
    let spec = registry()[0].spec();
    let params = parse_params(
        spec,
        &[
            ("log10_lr", "-1.5"),
            ("activation", "tanh"),
            ("steps", "50"),
        ],
    )
    .unwrap();
    assert_eq!(encoded, registry()[0].render(&params));
    let walk = render_query("?widget=backprop-walk&log10_eps=%2D8&difference=forward").unwrap();
    assert!(
        walk.numbers
            .iter()
            .any(|(l, _)| l.contains("forward, ε = 1e-8")),
        "{:?}",
        walk.numbers
    );
}

#[test]
fn query_errors_are_typed() {
    assert_eq!(render_query("steps=10"), Err(WidgetError::MissingWidget));
    assert!(matches!(
        render_query("widget=mlp-trainer&steps=%G0"),
        Err(WidgetError::BadEncoding { .. })
    ));
    assert!(matches!(
        render_query("widget=nope"),
        Err(WidgetError::UnknownWidget { ref id }) if id == "nope"
    ));
}

/// Decodes one JSON string literal at the start of `s`, returning it and the rest of the input.
fn json_string(s: &str) -> (String, &str) {
    let mut chars = s.strip_prefix('"').expect("a string").char_indices();
    let mut out = String::new();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return (out, &s[i + 2..]),
            '\\' => match chars.next().expect("escape").1 {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                '"' => out.push('"'),
                '\\' => out.push('\\'),
                '/' => out.push('/'),
                'u' => {
                    let hex: String = (0..4).map(|_| chars.next().expect("hex").1).collect();
                    let code = u32::from_str_radix(&hex, 16).expect("hex digits");
                    out.push(char::from_u32(code).expect("a scalar value"));
                }
                other => panic!("bad escape \\{other}"),
            },
            c => {
                assert!(u32::from(c) >= 0x20, "raw control character in JSON");
                out.push(c);
            }
        }
    }
    panic!("unterminated string")
}

#[test]
fn json_output_decodes_back_to_the_figure() {
    for w in registry() {
        let fig = w.render(&Params::defaults(w.spec()));
        let json = fig.to_json();
        assert!(!json.contains('<'), "raw < in JSON");
        let rest = json.strip_prefix("{\"svg\":").unwrap();
        let (svg, rest) = json_string(rest);
        assert_eq!(svg, fig.svg);
        let mut rest = rest.strip_prefix(",\"numbers\":[").unwrap();
        let mut numbers = Vec::new();
        while let Some(r) = rest.strip_prefix('[') {
            let (label, r) = json_string(r);
            let (value, r) = json_string(r.strip_prefix(',').unwrap());
            numbers.push((label, value));
            let r = r.strip_prefix(']').unwrap();
            rest = r.strip_prefix(',').unwrap_or(r);
        }
        assert_eq!(numbers, fig.numbers);
        let rest = rest.strip_prefix("],\"description\":").unwrap();
        let (description, rest) = json_string(rest);
        assert_eq!(description, fig.description);
        assert_eq!(rest, "}");
    }
}

#[test]
fn range_values_at_the_bounds_are_accepted() {
    for w in registry() {
        for p in w.spec().params {
            if let Some((min, max)) = range_bounds(&p.kind) {
                for v in [min, max] {
                    let s = fmt(v);
                    assert!(
                        parse_params(w.spec(), &[(p.name, s.as_str())]).is_ok(),
                        "{} {s}",
                        p.name
                    );
                }
            }
        }
    }
}

/// A widget that works across frames ([`dlf_widgets::Stepped`]) must end on the figure its `render` gives,
/// however the page slices the work, and every intermediate figure must be sound: checked at the defaults
/// and at every bench case (the costliest settings, which take the most slices).
#[test]
fn progressive_widgets_end_on_the_rendered_figure_and_draw_soundly_on_the_way() {
    let mut progressive = 0;
    for (name, query) in dlf_widgets::bench_cases() {
        let parsed = dlf_widgets::query::parse_query(&query).expect("bench queries parse");
        let widget =
            dlf_widgets::find(&parsed.widget).expect("bench cases name registered widgets");
        let pairs: Vec<(String, String)> = parsed
            .pair_refs()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let (params, rendered) = render_pairs(widget, &pairs);
        let Some(mut session) = widget.session(&params) else {
            continue;
        };
        progressive += 1;
        let mut slices = 0;
        loop {
            slices += 1;
            assert!(slices < 10_000, "{name}: the computation never finishes");
            let done = session.advance();
            let figure = session.draw();
            assert_sound(widget, &params, &figure);
            if done {
                assert_eq!(
                    figure, rendered,
                    "{name}: the sliced computation ends elsewhere"
                );
                break;
            }
        }
        assert!(
            matches!(
                dlf_widgets::start_query(&query),
                Ok(dlf_widgets::Redraw::Session(_))
            ),
            "{name}: start_query hands out the computation"
        );
    }
    assert!(progressive > 0, "the trainer widget is progressive");
}
