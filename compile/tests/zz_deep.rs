use std::collections::BTreeMap;
#[test]
fn deep() {
    for n in [100usize, 300, 1000, 3000, 10_000, 100_000] {
        for (open, close) in [("(", ")"), ("[", "]"), ("{a:", "}"), ("-", ""), ("!", ""), ("`${", "}`"), ("a?b:", ""), ("x=>", "")] {
            let src = format!("import {{ LuaAgent }} from 'x';\nnew LuaAgent({{ persona: {}1{} }});\n", open.repeat(n), close.repeat(n));
            let mut files = BTreeMap::new();
            files.insert("src/index.ts".to_string(), src);
            let h = std::thread::Builder::new().stack_size(256 << 20).spawn(move || {
                let r = lua_compile::evaluate_files(&files, "src/index.ts");
                r.is_ok()
            }).unwrap();
            eprintln!("{n} {open}: {}", h.join().unwrap());
        }
    }
}
