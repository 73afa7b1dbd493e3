//! `docs/cli.md` names every special form and built-in function, so the reference cannot fall
//! behind the language.

use std::path::Path;

#[test]
fn every_name_is_documented() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/cli.md");
    let docs = std::fs::read_to_string(path).expect("docs/cli.md");
    let forms = ppdb_lisp::SPECIAL_FORMS.iter().map(|f| f.name);
    let builtins = ppdb_lisp::builtins::all().map(|b| b.name);
    let missing: Vec<&str> = forms
        .chain(builtins)
        .filter(|name| {
            let code = format!("`{name}`");
            let call = format!("`({name}");
            !docs.contains(&code) && !docs.contains(&call)
        })
        .collect();
    assert!(missing.is_empty(), "not in docs/cli.md: {missing:?}");
}
