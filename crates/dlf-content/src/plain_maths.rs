//! LaTeX maths as readable Unicode text, for the terminal (`dlf drill`, `dlf progress`): `\partial \ell/\partial p
//! = -\frac{1}{p_y}\,e_y` becomes `∂ℓ/∂p = −(1/p_y)·e_y`, `J = \mathrm{diag}(p) - p p^\top` becomes
//! `J = diag(p) − p pᵀ`.
//!
//! The rules, in the spirit of plain-text maths as people type it in e-mail: symbols and Greek letters become
//! their Unicode characters; a fraction becomes `a/b`, with parentheses around a compound numerator or
//! denominator, and around the whole fraction when a factor stands next to it; sub- and superscripts become
//! Unicode sub/superscript characters when every character has one (`x²`, `Wᵀ`, `x₁`), else `_y` / `^(k+1)`;
//! font commands (`\mathrm`, `\mathbf`, `\text`, `\operatorname`) keep their text; sizing commands (`\left`,
//! `\big`) go; an unknown command keeps its name without the backslash, so no LaTeX source is ever printed.

/// Converts one formula (the text between `$…$` or `$$…$$`, without the dollars).
pub fn to_unicode(latex: &str) -> String {
    let tokens = tokenize(latex);
    let mut parser = Parser { tokens, pos: 0 };
    let out = parser.sequence(None);
    tidy(&out)
}

/// Relations and binary operators: the space written after them is kept.
const SPACED: &[&str] = &[
    "le",
    "leq",
    "ge",
    "geq",
    "ne",
    "neq",
    "approx",
    "sim",
    "simeq",
    "equiv",
    "propto",
    "to",
    "rightarrow",
    "leftarrow",
    "gets",
    "Rightarrow",
    "implies",
    "Leftrightarrow",
    "iff",
    "mapsto",
    "in",
    "notin",
    "subset",
    "subseteq",
    "cup",
    "cap",
    "cdot",
    "times",
    "div",
    "pm",
    "mp",
    "odot",
    "otimes",
    "oplus",
    "ll",
    "gg",
    "triangleq",
    "coloneqq",
    "land",
    "lor",
    "wedge",
    "vee",
    "quad",
    "qquad",
    "mid",
    "log",
    "ln",
    "exp",
    "max",
    "min",
    "sup",
    "inf",
    "arg",
    "sin",
    "cos",
    "tan",
    "tanh",
    "det",
    "lim",
    "Pr",
    "argmax",
    "argmin",
];

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Command(String),
    Char(char),
    Open,
    Close,
    Sub,
    Sup,
}

fn tokenize(latex: &str) -> Vec<Token> {
    let chars: Vec<char> = latex.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match c {
            '\\' => {
                let start = i;
                while i < chars.len() && chars[i].is_ascii_alphabetic() {
                    i += 1;
                }
                if i == start {
                    // A control symbol: `\,`, `\{`, `\|`, `\\`.
                    if let Some(&symbol) = chars.get(i) {
                        out.push(Token::Command(symbol.to_string()));
                        i += 1;
                    }
                } else {
                    let name: String = chars[start..i].iter().collect();
                    // TeX ignores the spaces after a control word (`\partial \ell` is ∂ℓ); around a relation or
                    // a binary operator one space is kept, so `a \le b` reads `a ≤ b`.
                    let spaced = i < chars.len() && chars[i] == ' ';
                    while i < chars.len() && chars[i] == ' ' {
                        i += 1;
                    }
                    let keeps_space = SPACED.contains(&name.as_str());
                    out.push(Token::Command(name));
                    if spaced && keeps_space {
                        out.push(Token::Char(' '));
                    }
                }
            }
            '{' => out.push(Token::Open),
            '}' => out.push(Token::Close),
            '_' => out.push(Token::Sub),
            '^' => out.push(Token::Sup),
            c => out.push(Token::Char(c)),
        }
    }
    out
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    /// Converts tokens until the group closes (`until` is `Some(Close)`) or the input ends.
    fn sequence(&mut self, until: Option<Token>) -> String {
        let mut out = String::new();
        while let Some(token) = self.peek().cloned() {
            if Some(&token) == until.as_ref() {
                self.pos += 1;
                break;
            }
            if token == Token::Close {
                // An unbalanced brace: skip it.
                self.pos += 1;
                continue;
            }
            let piece = self.item(&out);
            out.push_str(&piece);
        }
        out
    }

    /// One argument: a braced group, one command or one character.
    fn argument(&mut self) -> String {
        while matches!(self.peek(), Some(Token::Char(' '))) {
            self.pos += 1;
        }
        match self.peek() {
            Some(Token::Open) => {
                self.pos += 1;
                self.sequence(Some(Token::Close))
            }
            Some(_) => self.item(""),
            None => String::new(),
        }
    }

    fn item(&mut self, before: &str) -> String {
        let Some(token) = self.next() else {
            return String::new();
        };
        match token {
            Token::Open => self.sequence(Some(Token::Close)),
            Token::Close => String::new(),
            Token::Sub => {
                let arg = self.argument();
                script(&arg, false)
            }
            Token::Sup => {
                let arg = self.argument();
                script(&arg, true)
            }
            Token::Char('-') => "−".to_owned(),
            Token::Char('*') => "∗".to_owned(),
            Token::Char('~') => " ".to_owned(),
            Token::Char('\'') => "′".to_owned(),
            Token::Char('&') => String::new(),
            Token::Char(c) => c.to_string(),
            Token::Command(name) => self.command(&name, before),
        }
    }

    fn command(&mut self, name: &str, before: &str) -> String {
        if let Some(symbol) = symbol(name) {
            return symbol.to_owned();
        }
        match name {
            "frac" | "dfrac" | "tfrac" => {
                let num = self.argument();
                let den = self.argument();
                let fraction = format!("{}/{}", group(&num), group(&den));
                // Parenthesise the fraction when a factor touches it: `−(1/p_y)·e_y`, `2(a/b)`.
                let left_factor = before
                    .trim_end_matches([' ', '\u{2009}'])
                    .chars()
                    .last()
                    .is_some_and(|c| c.is_alphanumeric() || ")]−·".contains(c));
                let right_factor = self.next_is_factor();
                if left_factor || right_factor {
                    format!("({fraction})")
                } else {
                    fraction
                }
            }
            "sqrt" => {
                let index = if matches!(self.peek(), Some(Token::Char('['))) {
                    self.pos += 1;
                    let mut idx = String::new();
                    while let Some(t) = self.next() {
                        match t {
                            Token::Char(']') => break,
                            Token::Char(c) => idx.push(c),
                            _ => {}
                        }
                    }
                    idx
                } else {
                    String::new()
                };
                let arg = self.argument();
                let root = match index.as_str() {
                    "" => "√",
                    "3" => "∛",
                    "4" => "∜",
                    _ => "√",
                };
                format!("{root}{}", group(&arg))
            }
            "hat" | "widehat" => accent(&self.argument(), '\u{302}', "hat"),
            "bar" | "overline" => accent(&self.argument(), '\u{304}', "bar"),
            "tilde" | "widetilde" => accent(&self.argument(), '\u{303}', "tilde"),
            "dot" => accent(&self.argument(), '\u{307}', "dot"),
            "ddot" => accent(&self.argument(), '\u{308}', "ddot"),
            "vec" => accent(&self.argument(), '\u{20d7}', "vec"),
            "mathbb" => {
                let arg = self.argument();
                arg.chars().map(double_struck).collect()
            }
            "mathrm" | "mathbf" | "mathit" | "mathsf" | "mathtt" | "mathcal" | "boldsymbol"
            | "bm" | "text" | "textrm" | "textbf" | "textit" | "operatorname" | "mbox" => {
                self.argument()
            }
            "begin" | "end" => {
                // Environment names go; their rows are separated by `\\` (below).
                let _ = self.argument();
                String::new()
            }
            "left" | "right" | "big" | "Big" | "bigg" | "Bigg" | "bigl" | "bigr" | "Bigl"
            | "Bigr" | "biggl" | "biggr" | "middle" | "displaystyle" | "textstyle" | "limits"
            | "nolimits" | "mathstrut" | "strut" => {
                // A `\left.` draws nothing.
                if matches!(self.peek(), Some(Token::Char('.'))) {
                    self.pos += 1;
                }
                String::new()
            }
            "\\" => "; ".to_owned(),
            other if other.chars().all(|c| c.is_ascii_alphabetic()) => other.to_owned(),
            other => other.to_owned(),
        }
    }

    /// Whether the next token (after spaces) is a factor that would touch a fraction: a letter, a digit, an
    /// opening bracket or a thin space followed by one.
    fn next_is_factor(&self) -> bool {
        let mut i = self.pos;
        while let Some(t) = self.tokens.get(i) {
            match t {
                Token::Char(' ') => i += 1,
                Token::Command(c) if c == "," || c == ";" || c == ":" => i += 1,
                Token::Char(c) => return c.is_alphanumeric() || *c == '(',
                Token::Command(c) => {
                    return !matches!(
                        c.as_str(),
                        "le" | "leq"
                            | "ge"
                            | "geq"
                            | "ne"
                            | "neq"
                            | "approx"
                            | "quad"
                            | "qquad"
                            | "to"
                            | "right"
                            | "end"
                            | "\\"
                    )
                }
                Token::Open => return true,
                _ => return false,
            }
        }
        false
    }
}

/// `a` as it stands, or `(a)` when it is compound (an operator or a space inside it).
fn group(text: &str) -> String {
    let text = text.trim();
    let simple =
        text.chars().count() <= 1 || !text.contains([' ', '+', '−', '-', '=', '/', '·', '×', ',']);
    let bracketed = text.starts_with('(') && text.ends_with(')') && balanced_inside(text);
    if simple || bracketed {
        text.to_owned()
    } else {
        format!("({text})")
    }
}

/// Whether the brackets at the two ends of `text` belong together (`(a)(b)` is not one group).
fn balanced_inside(text: &str) -> bool {
    let mut depth = 0i32;
    let n = text.chars().count();
    for (i, c) in text.chars().enumerate() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        if depth == 0 && i + 1 < n {
            return false;
        }
    }
    true
}

fn accent(base: &str, combining: char, name: &str) -> String {
    let mut chars = base.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => format!("{c}{combining}"),
        _ => format!("{name}({base})"),
    }
}

/// A sub- or superscript: Unicode script characters when all exist, else `_x`/`^x` with brackets if compound.
fn script(arg: &str, sup: bool) -> String {
    let arg = arg.trim();
    if sup && (arg == "⊤" || arg == "T" || arg == "top") {
        return "ᵀ".to_owned();
    }
    let converted: Option<String> = arg
        .chars()
        .map(|c| if sup { superscript(c) } else { subscript(c) })
        .collect();
    match converted {
        Some(s) if !s.is_empty() => s,
        _ => {
            let mark = if sup { '^' } else { '_' };
            if arg.chars().count() == 1 {
                format!("{mark}{arg}")
            } else {
                format!("{mark}({arg})")
            }
        }
    }
}

fn superscript(c: char) -> Option<char> {
    Some(match c {
        '0' => '⁰',
        '1' => '¹',
        '2' => '²',
        '3' => '³',
        '4' => '⁴',
        '5' => '⁵',
        '6' => '⁶',
        '7' => '⁷',
        '8' => '⁸',
        '9' => '⁹',
        '+' => '⁺',
        '−' | '-' => '⁻',
        '=' => '⁼',
        '(' => '⁽',
        ')' => '⁾',
        'n' => 'ⁿ',
        'i' => 'ⁱ',
        'T' | '⊤' => 'ᵀ',
        't' => 'ᵗ',
        'k' => 'ᵏ',
        'l' => 'ˡ',
        'd' => 'ᵈ',
        'x' => 'ˣ',
        '′' => '′',
        '∗' | '*' => '*',
        _ => return None,
    })
}

fn subscript(c: char) -> Option<char> {
    Some(match c {
        '0' => '₀',
        '1' => '₁',
        '2' => '₂',
        '3' => '₃',
        '4' => '₄',
        '5' => '₅',
        '6' => '₆',
        '7' => '₇',
        '8' => '₈',
        '9' => '₉',
        '+' => '₊',
        '−' | '-' => '₋',
        '=' => '₌',
        '(' => '₍',
        ')' => '₎',
        'a' => 'ₐ',
        'e' => 'ₑ',
        'h' => 'ₕ',
        'i' => 'ᵢ',
        'j' => 'ⱼ',
        'k' => 'ₖ',
        'l' => 'ₗ',
        'm' => 'ₘ',
        'n' => 'ₙ',
        'o' => 'ₒ',
        'p' => 'ₚ',
        'r' => 'ᵣ',
        's' => 'ₛ',
        't' => 'ₜ',
        'u' => 'ᵤ',
        'v' => 'ᵥ',
        'x' => 'ₓ',
        _ => return None,
    })
}

fn double_struck(c: char) -> char {
    match c {
        'R' => 'ℝ',
        'N' => 'ℕ',
        'Z' => 'ℤ',
        'Q' => 'ℚ',
        'C' => 'ℂ',
        'E' => '𝔼',
        'P' => 'ℙ',
        '1' => '𝟙',
        c => c,
    }
}

fn symbol(name: &str) -> Option<&'static str> {
    Some(match name {
        "alpha" => "α",
        "beta" => "β",
        "gamma" => "γ",
        "delta" => "δ",
        "epsilon" => "ϵ",
        "varepsilon" => "ε",
        "zeta" => "ζ",
        "eta" => "η",
        "theta" => "θ",
        "vartheta" => "ϑ",
        "iota" => "ι",
        "kappa" => "κ",
        "lambda" => "λ",
        "mu" => "μ",
        "nu" => "ν",
        "xi" => "ξ",
        "pi" => "π",
        "rho" => "ρ",
        "sigma" => "σ",
        "tau" => "τ",
        "upsilon" => "υ",
        "phi" => "ϕ",
        "varphi" => "φ",
        "chi" => "χ",
        "psi" => "ψ",
        "omega" => "ω",
        "Gamma" => "Γ",
        "Delta" => "Δ",
        "Theta" => "Θ",
        "Lambda" => "Λ",
        "Xi" => "Ξ",
        "Pi" => "Π",
        "Sigma" => "Σ",
        "Phi" => "Φ",
        "Psi" => "Ψ",
        "Omega" => "Ω",
        "partial" => "∂",
        "nabla" => "∇",
        "ell" => "ℓ",
        "infty" => "∞",
        "sum" => "∑",
        "prod" => "∏",
        "int" => "∫",
        "cdot" => "·",
        "times" => "×",
        "div" => "÷",
        "pm" => "±",
        "mp" => "∓",
        "le" | "leq" => "≤",
        "ge" | "geq" => "≥",
        "ll" => "≪",
        "gg" => "≫",
        "ne" | "neq" => "≠",
        "approx" => "≈",
        "sim" => "∼",
        "simeq" => "≃",
        "equiv" => "≡",
        "propto" => "∝",
        "to" | "rightarrow" => "→",
        "leftarrow" | "gets" => "←",
        "Rightarrow" | "implies" => "⇒",
        "Leftrightarrow" | "iff" => "⇔",
        "mapsto" => "↦",
        "in" => "∈",
        "notin" => "∉",
        "subset" => "⊂",
        "subseteq" => "⊆",
        "cup" => "∪",
        "cap" => "∩",
        "forall" => "∀",
        "exists" => "∃",
        "emptyset" | "varnothing" => "∅",
        "top" => "⊤",
        "perp" => "⊥",
        "odot" => "⊙",
        "otimes" => "⊗",
        "oplus" => "⊕",
        "circ" => "∘",
        "ast" => "∗",
        "star" => "⋆",
        "ldots" | "dots" | "dotsc" | "dotsb" => "…",
        "cdots" => "⋯",
        "vdots" => "⋮",
        "ddots" => "⋱",
        "langle" => "⟨",
        "rangle" => "⟩",
        "lceil" => "⌈",
        "rceil" => "⌉",
        "lfloor" => "⌊",
        "rfloor" => "⌋",
        "lVert" | "rVert" | "Vert" | "|" => "‖",
        "lvert" | "rvert" | "vert" | "mid" => "|",
        "{" => "{",
        "}" => "}",
        "%" => "%",
        "$" => "$",
        "#" => "#",
        "_" => "_",
        "&" => "&",
        " " => " ",
        "," => "\u{2009}",
        ":" | ">" | ";" => " ",
        "!" => "",
        "quad" => "  ",
        "qquad" => "    ",
        "triangleq" | "coloneqq" => "≔",
        "neg" | "lnot" => "¬",
        "land" | "wedge" => "∧",
        "lor" | "vee" => "∨",
        "prime" => "′",
        "degree" => "°",
        _ => return None,
    })
}

/// Final touches: a thin space between two factors reads as a product dot (`(1/p_y)·e_y`); other thin spaces
/// become ordinary spaces; runs of spaces collapse.
fn tidy(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        if c == '\u{2009}' {
            let prev = out.chars().last();
            let next = chars[i + 1..].iter().find(|c| **c != ' ').copied();
            let factor =
                |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || "()ᵀ²".contains(c));
            if factor(prev) && factor(next) && prev != Some(' ') {
                out.push('·');
            } else if prev != Some(' ') {
                out.push(' ');
            }
            continue;
        }
        if c == ' ' && out.ends_with(' ') {
            continue;
        }
        out.push(c);
    }
    out.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::to_unicode;

    #[test]
    fn the_issues_examples() {
        assert_eq!(
            to_unicode(r"\partial \ell/\partial p = -\frac{1}{p_y}\,e_y"),
            "∂ℓ/∂p = −(1/p_y)·e_y"
        );
        assert_eq!(
            to_unicode(r"J = \mathrm{diag}(p) - p p^\top"),
            "J = diag(p) − p pᵀ"
        );
    }

    #[test]
    fn fractions_scripts_and_fonts() {
        assert_eq!(to_unicode(r"\frac{a+b}{2}"), "(a+b)/2");
        assert_eq!(to_unicode(r"x^2 + W^{T} x_1"), "x² + Wᵀ x₁");
        assert_eq!(to_unicode(r"\sqrt{d_k}"), "√dₖ");
        assert_eq!(to_unicode(r"a \le b \cdot c"), "a ≤ b · c");
        assert_eq!(to_unicode(r"\mathbb{E}[x] \le \hat{y}"), "𝔼[x] ≤ y\u{302}");
        assert_eq!(to_unicode(r"\theta_{t+1}"), "θₜ₊₁");
        assert_eq!(to_unicode(r"\beta^{(k)}_{ij}"), "β⁽ᵏ⁾ᵢⱼ");
        assert_eq!(to_unicode(r"\operatorname{softmax}(z)_i"), "softmax(z)ᵢ");
        assert_eq!(
            to_unicode(r"\left( \frac{\partial L}{\partial z} \right)"),
            "( ∂L/∂z )"
        );
        assert!(!to_unicode(r"\unknowncommand{x}").contains('\\'));
    }
}
