//! The insert invariant: for generated config objects (empty, one-line, multi-line, with or
//! without trailing commas, LF or CRLF, tabs or spaces, trailing comments) and any JSON
//! value, inserting `key: value` and compiling again yields exactly the value, every other
//! property as before, and no byte outside the config object changes.

use std::collections::BTreeMap;

use lua_compile::{
    NewModule, WriteError, WriteOptions, evaluate_files, insert_property_files,
    insert_with_new_module_files,
};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

#[derive(Clone, Debug)]
struct Shape {
    props: Vec<(String, String)>,
    multi_line: bool,
    trailing_comma: bool,
    crlf: bool,
    unit: &'static str,
    comments: bool,
    semicolons: bool,
}

fn literal() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z ]{0,8}".prop_map(|s| format!("'{s}'")),
        "[a-z ]{0,8}".prop_map(|s| format!("\"{s}\"")),
        (0i32..1000).prop_map(|n| n.to_string()),
        Just("true".to_owned()),
        Just("null".to_owned()),
        Just("{ a: 1, b: [2, 'x'] }".to_owned()),
        Just("`multi\nline`".to_owned()),
    ]
}

fn shape() -> impl Strategy<Value = Shape> {
    (
        proptest::collection::btree_map("[a-z][a-zA-Z0-9]{0,5}", literal(), 0..4),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        prop_oneof![Just("  "), Just("    "), Just("\t")],
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(props, multi_line, trailing_comma, crlf, unit, comments, semicolons)| Shape {
                props: props.into_iter().collect(),
                multi_line,
                trailing_comma,
                crlf,
                unit,
                comments,
                semicolons,
            },
        )
}

fn source(shape: &Shape) -> String {
    let semi = if shape.semicolons { ";" } else { "" };
    let mut out = format!(
        "import {{ LuaAgent }} from 'lua-cli'{semi}\n\nexport const agent = new LuaAgent({{"
    );
    let n = shape.props.len();
    for (i, (key, value)) in shape.props.iter().enumerate() {
        let comma = if i + 1 < n || shape.trailing_comma {
            ","
        } else {
            ""
        };
        if shape.multi_line {
            let comment = if shape.comments { " // note" } else { "" };
            out.push_str(&format!("\n{}{key}: {value}{comma}{comment}", shape.unit));
        } else {
            out.push_str(&format!(" {key}: {value}{comma}"));
        }
    }
    if shape.multi_line {
        if shape.comments {
            out.push_str(&format!("\n{}// more later", shape.unit));
        }
        out.push('\n');
    } else if n > 0 {
        out.push(' ');
    }
    out.push_str(&format!("}}){semi}\n// after\n"));
    if shape.crlf {
        out = out.replace('\n', "\r\n");
    }
    out
}

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(Value::from),
        (-1e6f64..1e6).prop_map(|f| json!(f)),
        any::<String>().prop_map(Value::String),
        "[a-z`$\\{}'\"\\\\\r\n\t ]{0,12}".prop_map(Value::String),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::vec(("[a-zA-Z_$ -]{1,6}|[a-z]{1,4}", inner), 0..4).prop_map(
                |entries| Value::Object(entries.into_iter().collect::<Map<String, Value>>())
            ),
        ]
    })
}

fn project(src: String) -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    files.insert("src/index.ts".to_owned(), src);
    files
}

fn check_insert(shape: &Shape, key: &str, value: &Value) -> Result<(), TestCaseError> {
    let mut files = project(source(shape));
    let before = files["src/index.ts"].clone();
    let compiled = evaluate_files(&files, "src/index.ts").expect("compiles");
    prop_assume!(!compiled.has_property(key));
    let config = compiled.config.clone();
    let report = insert_property_files(&mut files, &compiled, key, value, WriteOptions::default())
        .map_err(|e| TestCaseError::fail(format!("{e}\n{before}")))?;
    prop_assert_eq!(report.files, vec!["src/index.ts".to_owned()]);
    let after = &files["src/index.ts"];
    // Nothing outside the config object changes.
    let (start, end) = (config.start as usize, config.end as usize);
    prop_assert_eq!(&after[..start], &before[..start]);
    prop_assert_eq!(&after[after.len() - (before.len() - end)..], &before[end..]);
    if shape.crlf {
        prop_assert!(
            !after.replace("\r\n", "").contains('\n'),
            "bare LF: {:?}",
            after
        );
    }
    let again = evaluate_files(&files, "src/index.ts").expect("compiles after insert");
    let read = again.fields[key].to_json().ok();
    prop_assert_eq!(read.as_ref(), Some(value), "{}", after);
    for (k, node) in &compiled.fields {
        prop_assert_eq!(again.fields[k].to_json().ok(), node.to_json().ok());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1500))]
    #[test]
    fn any_value_inserted_into_any_config_reads_back(
        shape in shape(),
        key in "[a-z][a-zA-Z]{0,6}|[a-z -]{1,6}",
        value in json_value(),
    ) {
        check_insert(&shape, &key, &value)?;
    }

    #[test]
    fn a_new_module_reads_back_through_its_import(
        shape in shape(),
        value in json_value(),
    ) {
        let mut files = project(source(&shape));
        let compiled = evaluate_files(&files, "src/index.ts").expect("compiles");
        prop_assume!(!compiled.has_property("governance"));
        let module = NewModule {
            path: "src/governance.ts",
            export: "governance",
            value: &value,
            as_const: &["mode", "a"],
        };
        insert_with_new_module_files(&mut files, &compiled, "governance", &module, WriteOptions::default())
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let again = evaluate_files(&files, "src/index.ts").expect("compiles after insert");
        prop_assert_eq!(again.fields["governance"].to_json().ok(), Some(value));
        prop_assert_eq!(&again.fields["governance"].origin().expect("origin").file, "src/governance.ts");
        if shape.crlf {
            prop_assert!(!files["src/governance.ts"].replace("\r\n", "").contains('\n'));
        }
    }
}

#[test]
fn the_fixed_shapes_insert_as_expected() {
    // Each documented layout once, byte for byte.
    let cases = [
        (false, false, 0, "new LuaAgent({\n  model: 'm',\n})"),
        (false, false, 1, "new LuaAgent({ a: 1, model: 'm' })"),
        (false, true, 1, "new LuaAgent({ a: 1, model: 'm', })"),
        (true, false, 1, "new LuaAgent({\n  a: 1,\n  model: 'm'\n})"),
        (true, true, 1, "new LuaAgent({\n  a: 1,\n  model: 'm',\n})"),
    ];
    for (multi_line, trailing_comma, n, expected) in cases {
        let shape = Shape {
            props: vec![("a".into(), "1".into())].into_iter().take(n).collect(),
            multi_line,
            trailing_comma,
            crlf: false,
            unit: "  ",
            comments: false,
            semicolons: true,
        };
        let mut files = project(source(&shape));
        let compiled = evaluate_files(&files, "src/index.ts").unwrap();
        insert_property_files(
            &mut files,
            &compiled,
            "model",
            &json!("m"),
            WriteOptions::default(),
        )
        .unwrap();
        assert!(
            files["src/index.ts"].contains(expected),
            "{}",
            files["src/index.ts"]
        );
    }
}

#[test]
fn a_number_javascript_cannot_hold_exactly_is_refused() {
    let shape = Shape {
        props: Vec::new(),
        multi_line: true,
        trailing_comma: true,
        crlf: false,
        unit: "  ",
        comments: false,
        semicolons: true,
    };
    let mut files = project(source(&shape));
    let before = files.clone();
    let compiled = evaluate_files(&files, "src/index.ts").unwrap();
    let err = insert_property_files(
        &mut files,
        &compiled,
        "budget",
        &json!(u64::MAX),
        WriteOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(err, WriteError::Shape { .. }));
    assert_eq!(
        err.to_string(),
        "cannot write the new value into the source: the edit would not read back exactly (`budget` reads as another value); nothing written"
    );
    assert_eq!(files, before);
}
