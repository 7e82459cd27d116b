use super::*;
use crate::engine::normalize::base64_encode;
use serde_json::json;
use std::ops::Range;

fn deployment(replicas: i64, image: &str) -> Value {
    json!({
        "kind": "Deployment", "apiVersion": "apps/v1",
        "spec": {
            "template": {"spec": {"containers": [{"image": image, "name": "app",
                "ports": [{"containerPort": 80}]}]},
                "metadata": {"labels": {"app": "web"}}},
            "selector": {"matchLabels": {"app": "web"}},
            "replicas": replicas
        },
        "metadata": {"namespace": "shop", "name": "web", "labels": {"app": "web", "tier": "front"},
                     "uid": "abc", "resourceVersion": "7"},
        "status": {"readyReplicas": 1}
    })
}

fn key() -> ResourceKey {
    ResourceKey::new("apps", "Deployment", "shop", "web")
}

fn dry_run() -> CompareOptions<'static> {
    CompareOptions::new(CompareMethod::ServerSideDryRun)
}

#[test]
fn yaml_keys_come_in_a_stable_order() {
    let text = to_stable_yaml(&deployment(2, "nginx:1"));
    let top: Vec<&str> = text.lines().filter(|l| !l.starts_with(' ')).collect();
    assert_eq!(
        top,
        [
            "apiVersion: apps/v1",
            "kind: Deployment",
            "metadata:",
            "spec:",
            "status:"
        ]
    );
    let meta: Vec<&str> = text.lines().skip(3).take(2).collect();
    assert_eq!(meta, ["  name: web", "  namespace: shop"]);
    assert!(
        text.contains("      - name: app\n        image: nginx:1\n"),
        "{text}"
    );
}

#[test]
fn identical_resources_are_unchanged_and_not_shown() {
    let d = compare_resource(
        key(),
        Some(&deployment(2, "nginx:1")),
        Some(&deployment(2, "nginx:1")),
        &dry_run(),
    );
    assert!(!d.changed);
    assert_eq!(d.desired, d.live);
    let diffs = [d];
    assert_eq!(render_unified(&diffs, 3), "");
    assert_eq!(render_side_by_side(&diffs, 120, 3), "");
    assert_eq!(to_json(&diffs, 3), json!([]));
}

#[test]
fn one_drifted_field_shows_exactly_that_field() {
    let d = compare_resource(
        key(),
        Some(&deployment(3, "nginx:1")),
        Some(&deployment(2, "nginx:1")),
        &dry_run(),
    );
    assert!(d.changed);
    let text = render_unified(std::slice::from_ref(&d), 3);
    assert!(text.starts_with("===== apps/Deployment shop/web ======\n--- live\n+++ desired\n"));
    let changed: Vec<&str> = text
        .lines()
        .filter(|l| (l.starts_with('-') || l.starts_with('+')) && !l.starts_with("---"))
        .filter(|l| !l.starts_with("+++"))
        .collect();
    assert_eq!(changed, ["-  replicas: 2", "+  replicas: 3"]);

    let sbs = SideBySide::of(&d, 3);
    let changed_rows: Vec<&Row> = sbs
        .rows
        .iter()
        .filter(|r| r.kind != RowKind::Equal)
        .collect();
    assert_eq!(changed_rows.len(), 1);
    let row = changed_rows[0];
    assert_eq!(row.kind, RowKind::Changed);
    let (l, r) = (row.left.as_ref().unwrap(), row.right.as_ref().unwrap());
    assert_eq!(
        (l.text.as_str(), r.text.as_str()),
        ("  replicas: 2", "  replicas: 3")
    );
    assert_eq!(l.line, r.line);
    assert_eq!(&l.text[l.changes[0].clone()], "2");
    assert_eq!(&r.text[r.changes[0].clone()], "3");
    assert_eq!(l.changes.len(), 1);
    assert_eq!(sbs.hunks.len(), 1);

    let side = render_side_by_side(&[d], 80, 3);
    let marked: Vec<&str> = side
        .lines()
        .filter(|l| l.contains(" -") || l.contains(" +"))
        .collect();
    assert_eq!(marked.len(), 1, "{side}");
    assert!(marked[0].contains("-  replicas: 2") && marked[0].contains("+  replicas: 3"));
}

#[test]
fn a_changed_secret_shows_a_masked_change_and_never_the_value() {
    let planted = "correct-horse-battery-staple";
    let planted_b64 = base64_encode(planted.as_bytes());
    let old_b64 = base64_encode(b"old-password-1234");
    let last_applied = format!("{{\"stringData\":{{\"password\":\"{planted}\"}}}}");
    let desired = json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "db", "namespace": "shop"},
        "stringData": {"password": planted, "user": "admin"}});
    let live = json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "db", "namespace": "shop", "uid": "u",
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": last_applied},
            "managedFields": [{"manager": "kubectl", "fieldsV1": {"f:data": {"f:password": {}}}}]},
        "data": {"password": old_b64, "user": base64_encode(b"admin")}});
    let key = ResourceKey::new("", "Secret", "shop", "db");
    for method in [
        CompareMethod::ServerSideDryRun,
        CompareMethod::GitFieldsOnly,
    ] {
        let d = compare_resource(
            key.clone(),
            Some(&desired),
            Some(&live),
            &CompareOptions::new(method),
        );
        assert!(d.changed, "{method:?}");
        let outputs = [
            d.desired.clone().unwrap(),
            d.live.clone().unwrap(),
            render_unified(std::slice::from_ref(&d), 3),
            render_side_by_side(std::slice::from_ref(&d), 100, 3),
            to_json(std::slice::from_ref(&d), 3).to_string(),
        ];
        for out in &outputs {
            for secret in [
                planted,
                planted_b64.as_str(),
                old_b64.as_str(),
                "admin",
                "YWRtaW4=",
            ] {
                assert!(
                    !out.contains(secret),
                    "{secret} leaked ({method:?}):\n{out}"
                );
            }
        }
        let unified = &outputs[2];
        // Argo CD's order: desired values get masks first, so the changed live value is longer.
        assert!(unified.contains("-  password: ++++++++++++\n"), "{unified}");
        assert!(unified.contains("+  password: ++++++++\n"), "{unified}");
        assert!(
            !unified.contains("-  user"),
            "unchanged key shown as changed: {unified}"
        );
    }
}

#[test]
fn missing_sides_show_as_whole_additions_or_removals() {
    let created = compare_resource(key(), Some(&deployment(1, "nginx:1")), None, &dry_run());
    assert!(created.changed && created.live.is_none());
    let text = render_unified(std::slice::from_ref(&created), 3);
    assert!(
        text.contains("--- live (not in the cluster)\n+++ desired\n@@ -0,0 +1,"),
        "{text}"
    );
    assert!(text.lines().skip(4).all(|l| l.starts_with('+')), "{text}");
    let sbs = SideBySide::of(&created, 3);
    assert!(
        sbs.rows
            .iter()
            .all(|r| r.kind == RowKind::Added && r.left.is_none())
    );

    let pruned = compare_resource(key(), None, Some(&deployment(1, "nginx:1")), &dry_run());
    assert!(pruned.changed);
    assert!(render_unified(&[pruned], 3).contains("+++ desired (not in Git)"));
}

#[test]
fn ignore_rules_reach_the_compare_step() {
    let rules = [IgnoreDifference {
        group: "apps".into(),
        kind: "Deployment".into(),
        json_pointers: vec!["/spec/replicas".into()],
        ..Default::default()
    }];
    let mut options = dry_run();
    options.app_ignore = &rules;
    let d = compare_resource(
        key(),
        Some(&deployment(3, "nginx:1")),
        Some(&deployment(2, "nginx:1")),
        &options,
    );
    assert!(!d.changed);
    let d = compare_resource(
        key(),
        Some(&deployment(3, "nginx:2")),
        Some(&deployment(2, "nginx:1")),
        &options,
    );
    assert!(d.changed);
    assert!(!render_unified(&[d], 3).contains("replicas"));
}

#[test]
fn json_form_lists_changed_resources() {
    let d = compare_resource(
        key(),
        Some(&deployment(3, "nginx:1")),
        Some(&deployment(2, "nginx:1")),
        &dry_run(),
    );
    let j = to_json(&[d], 3);
    assert_eq!(j[0]["kind"], "Deployment");
    assert_eq!(j[0]["namespace"], "shop");
    assert!(j[0]["diff"].as_str().unwrap().contains("+  replicas: 3"));
    assert!(j[0]["live"].as_str().unwrap().contains("replicas: 2"));
}

#[test]
fn replaced_blocks_pair_line_by_line_and_extras_face_blanks() {
    let left = "a\nb\nc\nd\n";
    let right = "a\nB\nC\nX\nY\nd\n";
    let sbs = SideBySide::of_texts(left, right, 3);
    let kinds: Vec<RowKind> = sbs.rows.iter().map(|r| r.kind).collect();
    assert_eq!(
        kinds,
        [
            RowKind::Equal,
            RowKind::Changed,
            RowKind::Changed,
            RowKind::Added,
            RowKind::Added,
            RowKind::Equal
        ]
    );
    let lines: Vec<(Option<usize>, Option<usize>)> = sbs
        .rows
        .iter()
        .map(|r| {
            (
                r.left.as_ref().map(|c| c.line),
                r.right.as_ref().map(|c| c.line),
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            (Some(1), Some(1)),
            (Some(2), Some(2)),
            (Some(3), Some(3)),
            (None, Some(4)),
            (None, Some(5)),
            (Some(4), Some(6))
        ]
    );
    assert_eq!(sbs.hunks.len(), 1);
    assert_eq!(sbs.hunks[0], 1..5);
}

#[test]
fn inline_changes_cover_only_the_changed_words() {
    let sbs = SideBySide::of_texts(
        "    image: nginx:1.25 # pinned\n",
        "    image: nginx:1.26 # pinned\n",
        3,
    );
    let row = &sbs.rows[0];
    let l = row.left.as_ref().unwrap();
    let r = row.right.as_ref().unwrap();
    assert_eq!(
        l.changes
            .iter()
            .map(|c| &l.text[c.clone()])
            .collect::<Vec<_>>(),
        ["25"]
    );
    assert_eq!(
        r.changes
            .iter()
            .map(|c| &r.text[c.clone()])
            .collect::<Vec<_>>(),
        ["26"]
    );
}

#[test]
fn hunks_navigate_and_long_unchanged_runs_fold() {
    let left: String = (0..40).map(|i| format!("line {i}\n")).collect();
    let right = left
        .replace("line 10\n", "line ten\n")
        .replace("line 30\n", "line thirty\n");
    let sbs = SideBySide::of_texts(&left, &right, 3);
    assert_eq!(sbs.hunks, [10..11, 30..31]);
    assert_eq!(sbs.next_hunk(0), Some(10));
    assert_eq!(sbs.next_hunk(10), Some(30));
    assert_eq!(sbs.next_hunk(30), None);
    assert_eq!(sbs.prev_hunk(30), Some(10));
    assert_eq!(sbs.prev_hunk(10), None);
    // Leading run keeps 3 before the change, the middle run 3 on each side, the tail 3 after.
    let folds: Vec<Range<usize>> = sbs.folds.iter().map(|f| f.rows.clone()).collect();
    assert_eq!(folds, [0..7, 14..27, 34..40]);
    assert_eq!(sbs.fold_at(20), Some(1));
    assert_eq!(sbs.fold_at(8), None);

    let closed = sbs.display_lines(|_| false);
    assert_eq!(closed[0], DisplayLine::Fold { fold: 0, hidden: 7 });
    assert_eq!(closed[1], DisplayLine::Row(7));
    assert_eq!(closed.len(), 1 + 7 + 1 + 7 + 1);
    let middle_open = sbs.display_lines(|i| i == 1);
    assert_eq!(middle_open.len(), closed.len() + 13 - 1);
    assert!(
        sbs.display_lines(|_| true)
            .iter()
            .all(|l| matches!(l, DisplayLine::Row(_)))
    );

    // A short unchanged run between changes is not folded.
    let sbs = SideBySide::of_texts("a\nb\nc\nd\ne\n", "A\nb\nc\nd\nE\n", 3);
    assert!(sbs.folds.is_empty());
}

#[test]
fn side_text_fits_the_width_and_cuts_long_lines() {
    let long = "x".repeat(300);
    let left = format!("a: 1\nb: {long}\n");
    let right = format!("a: 2\nb: {long}\n");
    let diff = ResourceDiff {
        key: key(),
        desired: Some(right),
        live: Some(left),
        changed: true,
    };
    let text = render_side_by_side(&[diff], 60, 3);
    for line in text.lines().skip(1) {
        assert!(line.chars().count() <= 60, "too wide: {line:?}");
    }
    assert!(text.contains('…'));
    assert!(text.lines().nth(1).unwrap().starts_with("live"));
    assert!(text.contains("1 -a: 1"), "{text}");
    assert!(text.contains("1 +a: 2"), "{text}");
}

/// Not a timing assertion: prints how long a 10,000-line manifest set takes, for a human
/// comparing against the 50 ms budget. Run with `--ignored --nocapture`.
#[test]
#[ignore]
fn prints_time_for_a_ten_thousand_line_manifest_set() {
    let mut desired = Vec::new();
    let mut live = Vec::new();
    for i in 0..250 {
        let mut d = deployment(2, &format!("registry/app-{i}:1.0"));
        d["metadata"]["name"] = json!(format!("web-{i}"));
        d["spec"]["template"]["spec"]["containers"][0]["env"] = Value::Array(
            (0..8)
                .map(|k| json!({"name": format!("VAR_{k}"), "value": format!("v{k}")}))
                .collect(),
        );
        let mut l = d.clone();
        if i % 10 == 0 {
            l["spec"]["replicas"] = json!(5);
        }
        desired.push(d);
        live.push(l);
    }
    let start = std::time::Instant::now();
    let diffs: Vec<ResourceDiff> = desired
        .iter()
        .zip(&live)
        .map(|(d, l)| compare_resource(ResourceKey::of(d).unwrap(), Some(d), Some(l), &dry_run()))
        .collect();
    let compared = start.elapsed();
    let lines: usize = diffs
        .iter()
        .map(|d| d.desired.as_ref().unwrap().lines().count())
        .sum();
    let start = std::time::Instant::now();
    let text = render_unified(&diffs, 3);
    let sides: Vec<SideBySide> = diffs.iter().map(|d| SideBySide::of(d, 3)).collect();
    let rendered = start.elapsed();
    println!(
        "{lines} lines per side: compare {compared:?}, unified + side-by-side {rendered:?} ({} bytes, {} models)",
        text.len(),
        sides.len()
    );
}
