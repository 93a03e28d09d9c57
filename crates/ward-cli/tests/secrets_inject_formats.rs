//! `ward inject --format json|yaml|toml|env|raw`: values holding quotes,
//! line breaks, backslashes and `#` rendered into each format, and each
//! output read back with a real parser (serde_json, serde_norway, toml,
//! `sh`); values that cannot fit where their reference is are refused.

#[path = "secrets_common/mod.rs"]
mod common;

use common::{Home, assert_ok, text};

/// Everything that breaks naive substitution, in every format.
const TRICKY: &str = "a \"quoted\" 'single' $HOME `id` value\nsecond line \\back\\slash # hash\ttab";
/// The same without a line break, for places that cannot hold one.
const ONE_LINE: &str = "o'ne \"#\" \\ line";
const PLAIN: &str = "plain-value";

fn home() -> Home {
    let home = Home::new();
    for (name, value) in [("tricky", TRICKY), ("oneline", ONE_LINE), ("plain", PLAIN)] {
        let args = ["secret", "set", name, "--type", "api-key", "--value", value];
        assert_ok(&home.run(&args, "", &[]), &args);
    }
    home
}

/// Renders `template` saved as `name`; returns the output file's text.
fn inject(home: &Home, name: &str, template: &str, extra: &[&str]) -> String {
    let input = home.path().join(name);
    std::fs::write(&input, template).expect("template");
    let out = home.path().join("out");
    let mut args = vec!["inject", "-i", input.to_str().expect("utf-8"), "-o", out.to_str().expect("utf-8")];
    args.extend_from_slice(extra);
    home.ok(&args);
    std::fs::read_to_string(out).expect("rendered")
}

#[test]
fn json_values_are_escaped_inside_strings_and_quoted_outside() {
    let home = home();
    let out = inject(
        &home,
        "app.json.tpl",
        r#"{"in": "key=${TOKEN:api-key:tricky}", "bare": ${TOKEN:api-key:tricky},
 "list": [${TOKEN:api-key:tricky}, "x"], "${TOKEN:api-key:plain}": 1, "esc": "\"${TOKEN:api-key:oneline}"}"#,
        &[],
    );
    let v: serde_json::Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}):\n{out}"));
    assert_eq!(v["in"], format!("key={TRICKY}"));
    assert_eq!(v["bare"], TRICKY);
    assert_eq!(v["list"][0], TRICKY);
    assert_eq!(v[PLAIN], 1);
    assert_eq!(v["esc"], format!("\"{ONE_LINE}"));
}

#[test]
fn yaml_values_are_quoted_escaped_or_indented_for_their_place() {
    let home = home();
    let template = "\
double: \"pre ${TOKEN:api-key:tricky} post\"
single: 'it''s ${TOKEN:api-key:oneline}'
bare: ${TOKEN:api-key:tricky}
commented: ${TOKEN:api-key:tricky} # a comment ${TOKEN:api-key:oneline}
list:
  - ${TOKEN:api-key:tricky}
flow: [${TOKEN:api-key:tricky}, other]
embedded: Bearer ${TOKEN:api-key:plain}!
${TOKEN:api-key:plain}: as a key
block: |
  first line
  ${TOKEN:api-key:tricky}
  last line
after: done
";
    let out = inject(&home, "app.yml", template, &[]);
    let v: serde_norway::Value =
        serde_norway::from_str(&out).unwrap_or_else(|e| panic!("not YAML ({e}):\n{out}"));
    let s = |k: &str| v[k].as_str().unwrap_or_else(|| panic!("{k} missing:\n{out}")).to_owned();
    assert_eq!(s("double"), format!("pre {TRICKY} post"));
    assert_eq!(s("single"), format!("it's {ONE_LINE}"));
    assert_eq!(s("bare"), TRICKY);
    assert_eq!(s("commented"), TRICKY);
    assert_eq!(v["list"][0].as_str(), Some(TRICKY));
    assert_eq!(v["flow"][0].as_str(), Some(TRICKY));
    assert_eq!(v["flow"][1].as_str(), Some("other"));
    assert_eq!(s("embedded"), format!("Bearer {PLAIN}!"));
    assert_eq!(s(PLAIN), "as a key");
    assert_eq!(s("block"), format!("first line\n{TRICKY}\nlast line\n"));
    assert_eq!(s("after"), "done");
}

#[test]
fn toml_values_are_escaped_in_basic_strings_and_quoted_outside() {
    let home = home();
    let template = "\
basic = \"pre ${TOKEN:api-key:tricky} post\"
bare = ${TOKEN:api-key:tricky}
multi = \"\"\"
${TOKEN:api-key:tricky}\"\"\"
literal = 'x ${TOKEN:api-key:plain}'
# a comment ${TOKEN:api-key:oneline}
arr = [${TOKEN:api-key:tricky}, \"b\"]
[table]
${TOKEN:api-key:plain} = 1
";
    let out = inject(&home, "app.toml.tpl", template, &[]);
    let v: toml::Table = toml::from_str(&out).unwrap_or_else(|e| panic!("not TOML ({e}):\n{out}"));
    assert_eq!(v["basic"].as_str(), Some(format!("pre {TRICKY} post").as_str()));
    assert_eq!(v["bare"].as_str(), Some(TRICKY));
    assert_eq!(v["multi"].as_str(), Some(TRICKY));
    assert_eq!(v["literal"].as_str(), Some("x plain-value"));
    assert_eq!(v["arr"][0].as_str(), Some(TRICKY));
    assert_eq!(v["table"][PLAIN].as_integer(), Some(1));
}

#[test]
fn env_values_survive_a_round_trip_through_sh() {
    let home = home();
    let template = "\
# a comment ${TOKEN:api-key:oneline}
BARE=${TOKEN:api-key:tricky}
DOUBLE=\"pre ${TOKEN:api-key:tricky} post\"
SINGLE='pre ${TOKEN:api-key:tricky} post'
export JOINED=x${TOKEN:api-key:tricky}y
";
    inject(&home, ".env.tpl", template, &[]);
    for (var, want) in [
        ("BARE", TRICKY.to_owned()),
        ("DOUBLE", format!("pre {TRICKY} post")),
        ("SINGLE", format!("pre {TRICKY} post")),
        ("JOINED", format!("x{TRICKY}y")),
    ] {
        let out = home.exec("sh", &["-c", &format!(". ./out; printf %s \"${var}\"")], "", &[]);
        assert_ok(&out, &["sh", var]);
        assert_eq!(text(&out.stdout), want, "{var}");
    }
}

#[test]
fn the_format_flag_overrides_the_name_and_raw_does_not_escape() {
    let home = home();
    let json = inject(&home, "t.txt", r#"{"k": "${TOKEN:api-key:oneline}"}"#, &["--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json).expect("JSON with --format json");
    assert_eq!(v["k"], ONE_LINE);
    let raw = inject(&home, "app.json", r#"{"k": "${TOKEN:api-key:oneline}"}"#, &["--format", "raw"]);
    assert_eq!(raw, format!(r#"{{"k": "{ONE_LINE}"}}"#));
}

#[test]
fn an_unknown_name_is_injected_raw_and_says_so() {
    let home = home();
    let input = home.path().join("nginx.conf.tpl");
    std::fs::write(&input, "key ${TOKEN:api-key:oneline};").expect("template");
    let out = home.ward(&["inject", "-i", input.to_str().expect("utf-8")]);
    assert_ok(&out, &["inject"]);
    assert_eq!(text(&out.stdout), format!("key {ONE_LINE};"));
    let err = text(&out.stderr);
    assert!(err.contains("raw, not escaped") && err.contains("--format"), "{err}");
}

#[test]
fn a_value_that_cannot_fit_its_place_is_refused_without_showing_it() {
    let home = home();
    for (name, template) in [
        ("a.toml", "k = 'literal ${TOKEN:api-key:oneline}'\n"),
        ("a.yaml", "k: 'single ${TOKEN:api-key:tricky}'\n"),
        ("a.yaml", "k: Bearer ${TOKEN:api-key:oneline}\n"),
        ("a.env", "# comment ${TOKEN:api-key:tricky}\n"),
    ] {
        let input = home.path().join(name);
        std::fs::write(&input, format!("# first line\n{template}")).expect("template");
        let out_file = home.path().join("out");
        std::fs::write(&out_file, "previous").expect("old output");
        let out = home.ward(&[
            "inject",
            "-i",
            input.to_str().expect("utf-8"),
            "--out",
            out_file.to_str().expect("utf-8"),
        ]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{name}: {template}: {err}");
        assert!(err.contains("line 2") && err.contains("${TOKEN:api-key:"), "{err}");
        assert!(!err.contains("single' $HOME") && !err.contains("o'ne"), "the value leaked: {err}");
        assert_eq!(std::fs::read_to_string(&out_file).expect("old output"), "previous");
    }
}
