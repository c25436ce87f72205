//! compute + render of personas of 100, 10,000 and 100,000 lines with a few
//! scattered changes (the common drift case).

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use lua_diff::{Style, compute, render_block};

fn persona(lines: usize) -> String {
    (0..lines)
        .map(|i| format!("Rule {i}: be helpful, accurate and kind to every customer.\n"))
        .collect()
}

/// Changes 3 lines spread over the value: one word, one removal, one insert.
fn edited(server: &str, lines: usize) -> String {
    let at = |f: usize| format!("Rule {}: be helpful", lines * f / 4);
    server
        .replacen(&at(1), &format!("{} and patient", at(1)), 1)
        .replacen(
            &format!("{}, accurate and kind to every customer.\n", at(2)),
            "",
            1,
        )
        .replacen(&at(3), &format!("New rule.\n{}", at(3)), 1)
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("compute+render");
    for lines in [100, 10_000, 100_000] {
        let server = persona(lines);
        let local = edited(&server, lines);
        group.bench_with_input(BenchmarkId::from_parameter(lines), &lines, |b, _| {
            b.iter(|| {
                let drift = compute(black_box(&server), black_box(&local));
                render_block("persona", &drift, Style { color: true })
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
