//! The README's "Protect your service" shows this example's `app.rs`
//! verbatim, so the code people copy is the code that compiles and that
//! `e2e.rs` runs.

#[test]
fn the_readme_shows_the_example_as_it_is() {
    let readme = include_str!("../../../README.md");
    let app = include_str!("../src/app.rs");
    let section = readme.split("## Protect your service").nth(1).expect("the README has the section");
    assert!(
        section.contains(&format!("```rust\n{app}```")),
        "copy examples/resource-server/src/app.rs into the README section"
    );
}
