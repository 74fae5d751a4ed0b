"""The evaluators' report has a section on fair waits: the audit of its main comparison, with
its figures inline."""

from __future__ import annotations

import yaml

from allocator.analysis.report import build_report, render_html
from allocator.simulation.examples import small


def test_report_has_the_fair_waits_section(tmp_path):
    """The section lists the headline policy against greedy, the overtaking counts, and two
    inline figures; the contents link to it."""
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(small()))
    report = build_report(
        path,
        replications=3,
        seed=1,
        policies=["fcfs_fast", "greedy"],
        sensitivity_replications=0,
    )
    fa = report.fairness
    assert fa is not None and fa.policy == "fcfs_fast" and fa.baseline == "greedy"
    assert fa.replications == 3 and fa.groups_compared > 0
    assert [o["bound"] for o in fa.overtaking[:4]] == ["0", "7", "14", "30"]
    assert len(fa.figures) == 2
    html = render_html(report)
    assert '<section id="fairness">' in html and 'href="#fairness"' in html
    assert "Who waits longer under fcfs_fast than under greedy" in html
    for f in fa.figures:
        assert f.src in html


def test_one_policy_has_no_comparison(tmp_path):
    """With the headline policy alone the section has the group figure and no comparison."""
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(small()))
    report = build_report(
        path, replications=2, seed=1, policies=["fcfs_fast"], sensitivity_replications=0
    )
    assert report.fairness.baseline is None and len(report.fairness.figures) == 1
    assert "Who waits longer under" not in render_html(report)
