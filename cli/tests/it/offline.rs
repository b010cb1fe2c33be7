//! The `concord` binary: `kernel check` on lint-worthy kernels, the library, a manifest with
//! its blobs in a directory store, a disagreement, and plain one-sentence errors.

use std::process::{Command, Output};

fn concord(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_concord"))
        .args(args)
        .env("XDG_RUNTIME_DIR", "/tmp")
        .output()
        .unwrap()
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn write(dir: &std::path::Path, name: &str, body: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    p.display().to_string()
}

#[test]
fn exp_kernel_prints_the_transcendental_finding_and_runs() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "exp.wgsl",
        "@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
    y[g.x] = exp(x[g.x]);
}
",
    );
    let o = concord(&["kernel", "check", &f, "--dispatch", "16,1,1"]);
    let (out, err) = text(&o);
    assert!(
        out.contains(&format!("lint: {f}:6:14: transcendental: `exp`")),
        "{out}{err}"
    );
    assert!(out.lines().any(|l| l.starts_with("vulkan ")), "{out}");
    assert!(out.lines().any(|l| l.starts_with("gl ")), "{out}");
    assert!(out.contains("ok: all 2 results agree"), "{out}");
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    // With --deny-lint the same kernel fails the check.
    assert_eq!(
        concord(&["kernel", "check", &f, "--deny-lint"])
            .status
            .code(),
        Some(1)
    );
}

#[test]
fn float_atomic_kernel_prints_the_finding_and_is_invalid() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "sum.wgsl",
        "@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> total: atomic<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
    atomicAdd(&total, x[g.x]);
}
",
    );
    let o = concord(&["kernel", "check", &f]);
    let (out, err) = text(&o);
    assert!(
        out.contains(&format!("lint: {f}:2:23: float-atomic")),
        "{out}"
    );
    assert!(
        out.contains(&format!("lint: {f}:6:5: float-atomic")),
        "{out}"
    );
    assert!(
        err.starts_with("error: ") && err.contains("invalid job (wgsl_validation)"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "one sentence: {err}");
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn library_check_agrees_everywhere_and_prints_a_table() {
    let o = concord(&["kernel", "check", "--library", "--markdown"]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    for name in concord_compute::kernels::NAMES {
        let row = out
            .lines()
            .find(|l| l.starts_with(&format!("| {name} |")))
            .unwrap_or_else(|| panic!("{name} missing: {out}"));
        assert!(row.ends_with("| yes |"), "{row}");
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        assert!(
            cells[2].starts_with('`') && cells[2] == cells[3] && cells[3] == cells[4],
            "{row}"
        );
    }
}

#[test]
fn manifest_with_directory_store_is_checked_against_the_cpu_reference() {
    let dir = tempfile::tempdir().unwrap();
    let case = concord_compute::kernels::find_by_name("reduce_f32").unwrap();
    for (h, m) in &case.job.modules {
        std::fs::write(dir.path().join(h.to_hex()), m).unwrap();
    }
    for (h, b) in &case.job.blobs {
        std::fs::write(dir.path().join(h.to_hex()), b).unwrap();
    }
    let f = write(dir.path(), "job.json", &case.job.manifest.to_json());
    let o = concord(&["kernel", "check", &f]);
    let (out, err) = text(&o);
    assert!(out.contains("ok: all 3 results agree"), "{out}{err}");
    assert!(out.lines().any(|l| l.starts_with("cpu ")), "{out}");
    assert_eq!(o.status.code(), Some(0));

    // A missing blob is a one-sentence error.
    let (h, _) = case.job.blobs.iter().next().unwrap();
    std::fs::remove_file(dir.path().join(h.to_hex())).unwrap();
    let o = concord(&["kernel", "check", &f]);
    let (_, err) = text(&o);
    assert_eq!(
        err.trim(),
        format!(
            "error: blob {h} is not in the store at {}",
            dir.path().display()
        )
    );
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn json_output_is_one_document() {
    let o = concord(&["kernel", "check", "gemm_i8", "--output", "json"]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).expect("stdout is JSON");
    let k = &v["kernels"][0];
    assert_eq!(k["kernel"], "gemm_i8");
    assert_eq!(k["agree"], true);
    let results = k["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    assert!(
        results.iter().all(|r| r["hash"] == results[0]["hash"]),
        "{out}"
    );
}

#[test]
fn invalid_manifest_gives_the_canonical_outcome_on_every_backend() {
    let dir = tempfile::tempdir().unwrap();
    let case = concord_compute::kernels::find_by_name("mix_u32").unwrap();
    for (h, m) in &case.job.modules {
        std::fs::write(dir.path().join(h.to_hex()), m).unwrap();
    }
    for (h, b) in &case.job.blobs {
        std::fs::write(dir.path().join(h.to_hex()), b).unwrap();
    }
    let mut manifest = case.job.manifest.clone();
    manifest.passes[0].entry_point = "nope".into();
    let f = write(dir.path(), "job.json", &manifest.to_json());
    let o = concord(&["kernel", "check", &f]);
    let (out, _) = text(&o);
    let want = concord_protocol::error_outcome_hash(concord_protocol::ErrorCode::MissingEntryPoint)
        .to_hex();
    assert!(
        out.lines()
            .filter(|l| l.contains(&format!("{want} (invalid: missing_entry_point)")))
            .count()
            == 2,
        "{out}"
    );
    assert!(out.contains("asks for compute entry point `nope`"), "{out}");
    assert!(out.contains("ok: all 2 results agree"), "{out}");
}

#[test]
fn disagreement_fails_the_check() {
    let other = "00".repeat(32);
    let o = concord(&["kernel", "check", "mix_u32", "--expect", &other]);
    let (out, _) = text(&o);
    assert!(out.contains("FAIL: the backends disagree"), "{out}");
    assert_eq!(o.status.code(), Some(1));
    // And agreeing with the right hash passes.
    let want = concord_protocol::result_hash(
        &concord_compute::kernels::find_by_name("mix_u32")
            .unwrap()
            .cpu_reference(),
    );
    let o = concord(&["kernel", "check", "mix_u32", "--expect", &want.to_hex()]);
    assert!(
        text(&o).0.contains("ok: all 4 results agree"),
        "{}",
        text(&o).0
    );
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn errors_are_one_plain_sentence() {
    let o = concord(&["kernel", "check", "/nonexistent/k.wgsl"]);
    let (_, err) = text(&o);
    assert_eq!(err.trim(), "error: /nonexistent/k.wgsl is neither a file nor a library kernel (see `concord kernel list`)");
    assert_eq!(o.status.code(), Some(2));
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "bad.wgsl",
        "@compute @workgroup_size(1)\nfn main() {\n  let x = ;\n}\n",
    );
    let (_, err) = text(&concord(&["kernel", "check", &f]));
    assert!(
        err.starts_with(&format!(
            "error: {f}: invalid job (wgsl_parse): pass 0 at line 3, column"
        )),
        "{err}"
    );
    assert!(
        !err.contains("{") && !err.contains("InvalidJob"),
        "no debug dump: {err}"
    );
}
