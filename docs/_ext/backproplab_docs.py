"""What the docs generate at build time, so it cannot drift from the code (the Sphinx extension).

- ``generated/api.rst`` and ``generated/cli.rst``, from ``backproplab_reference`` (plain Python);
- ``generated/figures/*.png``: the teaching pages' pictures, drawn by ``backproplab_figures`` from
  ``backproplab.explain.trace`` and ``reproduce``;
- ``generated/extra/explorer_xor.html``: the explorer of the report's XOR run, embedded live in the guide;
- the directives ``bp-trace`` (the whole ``backproplab trace xor --input 1,0``), ``bp-gradcheck``
  (``bp.gradcheck`` on that network), ``bp-mazur`` (Matt Mazur's published numbers beside the trace's; a
  disagreement fails the build) and ``bp-report`` (the report's Tables 1-3 beside ours over 1000 seeds);
- ``autosummary_context["guide"]``: each API name's guide page, for the templates' "see also".
"""
from __future__ import annotations

import contextlib
import importlib
import io
import re
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from backproplab_api import API_MODULES, guide_page, public_names
from backproplab_reference import api_rst, cli_rst, fit_lines
from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective


# --- the tutorial's numbers ---------------------------------------------------------------------
@cache
def xor_trace() -> Any:
    """The report's XOR network (``xor.toml``) at its initial weights, worked on the row (1, 0)."""
    from backproplab.experiments.build import build_network, build_optimizer
    from backproplab.experiments.config import load_config
    from backproplab.explain.trace import trace

    config = load_config("xor")
    return trace(build_network(config, 2), [1.0, 0.0], 1, optimizer=build_optimizer(config))


class TraceDirective(SphinxDirective):
    """``.. bp-trace::`` -> the whole output of ``backproplab trace xor --input 1,0``, wrapped to the page."""

    def run(self) -> list[nodes.Node]:
        from backproplab.cli import main

        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            main(["trace", "xor", "--input", "1,0"])
        text = fit_lines(buffer.getvalue().rstrip())  # wrapped to the page's width, numbers unchanged
        block = nodes.literal_block(text, text)
        block["language"] = "text"
        return [block]


class GradcheckDirective(SphinxDirective):
    """``.. bp-gradcheck::`` -> ``print(bp.gradcheck(net, X, y))`` for the report's XOR network."""

    def run(self) -> list[nodes.Node]:
        import backproplab as bp
        from backproplab.data import logic_table
        from backproplab.experiments.build import build_network
        from backproplab.experiments.config import load_config

        X, y = logic_table("xor")
        text = fit_lines(str(bp.gradcheck(build_network(load_config("xor"), 2), X, y)))
        block = nodes.literal_block(text, text)
        block["language"] = "text"
        return [block]


# --- Matt Mazur's step-by-step example -------------------------------------------------------------------
#: His published numbers (2-2-2, sigmoid, E = 1/2 sum (t - o)^2, eta = 0.5), checked against ``trace``.
MAZUR = {"E_total": 0.298371109, "w5": 0.35891648, "w6": 0.408666186, "w7": 0.511301270, "w8": 0.561370121,
         "w1": 0.149780716, "w2": 0.19956143, "w3": 0.24975114, "w4": 0.29950229}
#: Where his weight w_k sits in our ``W`` (fan_in, fan_out): h1 = w1 i1 + w2 i2, so w2 is ``0.W[1, 0]``.
MAZUR_WEIGHTS = {"w1": ("0", 0, 0), "w2": ("0", 1, 0), "w3": ("0", 0, 1), "w4": ("0", 1, 1),
                 "w5": ("2", 0, 0), "w6": ("2", 1, 0), "w7": ("2", 0, 1), "w8": ("2", 1, 1)}


@cache
def mazur_trace() -> Any:
    """His network at his initial weights, traced on his row with SGD(lr=0.5) and the mean squared error.

    Our MSE is the mean over the outputs, ``(1/2) sum_k (t_k - o_k)^2`` for his two outputs: his ``E_total``.
    His output sigmoid is a layer of the network (output ``identity``), so the loss sees ``o`` itself.
    """
    import backproplab as bp
    from backproplab.explain.trace import trace

    net = bp.Network([bp.Dense(2, 2), bp.Sigmoid(), bp.Dense(2, 2), bp.Sigmoid()], output="identity")
    net.params["0.W"][...] = [[0.15, 0.25], [0.20, 0.30]]
    net.params["0.b"][...] = 0.35
    net.params["2.W"][...] = [[0.40, 0.50], [0.45, 0.55]]
    net.params["2.b"][...] = 0.60
    return trace(net, [0.05, 0.10], [0.01, 0.99], loss="mse", optimizer=bp.SGD(lr=0.5))


def mazur_rows() -> list[tuple[str, float, float]]:
    """(name, his published value, ours from the trace) for his total error and the eight updated weights."""
    t = mazur_trace()
    layers = {layer.name: layer for layer in t.layers}
    ours = {"E_total": t.loss} | {k: float(layers[name].W_new[i, j]) for k, (name, i, j) in MAZUR_WEIGHTS.items()}
    return [(k, MAZUR[k], ours[k]) for k in MAZUR]


class MazurDirective(SphinxDirective):
    """``.. bp-mazur::`` -> a table of his numbers beside the trace's; a difference past his last digit fails
    the build (``ExtensionError``), so the page cannot show a disagreement."""

    def run(self) -> list[nodes.Node]:
        from sphinx.errors import ExtensionError

        lines = [f"{'':8}{'Mazur':>13}{'trace':>15}{'difference':>13}"]
        for name, his, ours in mazur_rows():
            decimals = len(repr(his).split(".")[1])
            if abs(ours - his) > 0.6 * 10.0 ** -decimals:
                raise ExtensionError(f"Mazur's {name} = {his} but the trace gives {ours:.10f}")
            lines.append(f"{name:8}{his:13.9f}{ours:15.11f}{ours - his:13.1e}")
        text = "\n".join(lines)
        block = nodes.literal_block(text, text)
        block["language"] = "text"
        return [block]


# --- the report beside ours ------------------------------------------------------------------------------
#: Seeds per function on the report page: the report's own 1000 (its statistics take about 10 s).
REPORT_SEEDS = 1000


@cache
def reproduced() -> Any:
    """``reproduce`` as ``backproplab reproduce`` runs it, without the sweeps beyond the report."""
    from backproplab.experiments.reproduce import reproduce

    return reproduce(seed=0, seeds=REPORT_SEEDS, sweep_seeds=0, progress=False)


def report_rst() -> str:
    """Tables 1-3 beside ours: per input row the report's value, our seed 0, the seeds' median and 5-95 %
    band, and the percentile of the report's value among the seeds."""
    result = reproduced()
    out = []
    for number, item in enumerate(result.functions, start=1):
        s = item.stats
        reference = item.config.reference.predicted
        shape = "-".join(map(str, (2, *item.config.model.hidden, 1)))
        out += [f".. list-table:: Table {number}: {item.config.title} ({shape}, {item.config.training.epochs} "
                f"epochs; {s.seeds.size} seeds)", "   :header-rows: 1", "   :align: left", "",
                "   * - input", "     - target", "     - report", "     - ours, seed 0", "     - median",
                "     - 5 %", "     - 95 %", "     - report's percentile"]
        for i, (x, t) in enumerate(zip(item.chosen.X, item.chosen.y, strict=True)):
            lo, med, hi = s.prediction_band[i]
            out += [f"   * - {int(x[0])} {int(x[1])}", f"     - {int(t)}", f"     - {reference[i]:.4f}",
                    f"     - {item.predictions[i]:.4f}", f"     - {med:.4f}", f"     - {lo:.4f}", f"     - {hi:.4f}",
                    f"     - {s.reference_percentile[i]:.1f}"]
        learned = "learned" if bool(s.learned[0]) else "did not learn"
        out += ["", f"Seed 0 {learned} {item.config.title}; {s.share_learned:.1%} of the {s.seeds.size} seeds "
                f"learned it (all four outputs on the right side of 0.5); final loss median "
                f"{np.median(s.final_loss):.4f}.", ""]
    ranks = np.concatenate([item.stats.reference_percentile for item in result.functions])
    inside = sum(int(5 <= r <= 95) for r in ranks)
    out += [f"Of the report's {ranks.size} values, {inside} lie between the 5th and the 95th percentile of our "
            f"seeds; their percentiles run from {ranks.min():.1f} to {ranks.max():.1f}.", ""]
    return "\n".join(out)


class ReportDirective(SphinxDirective):
    """``.. bp-report::`` -> the report's Tables 1-3 beside ours (``report_rst``), parsed as rst."""

    def run(self) -> list[nodes.Node]:
        from docutils.statemachine import StringList

        container = nodes.container()
        self.state.nested_parse(StringList(report_rst().splitlines(), source="bp-report"), self.content_offset,
                                container)
        return container.children


def figures(out: Path) -> None:
    """The tutorial's pictures, from the traces: the XOR network, one of its units as a circuit, Mazur's."""
    import matplotlib

    matplotlib.use("Agg")
    from backproplab_figures import network_figure, spread_figure, unit_figure

    out.mkdir(parents=True, exist_ok=True)
    names = {f"{name}.{i}.{j}": k for k, (name, i, j) in MAZUR_WEIGHTS.items()}
    drawn = {
        "xor_network.png": network_figure(xor_trace(), title="The report's XOR network at seed 0, row x = (1, 0)"),
        "xor_unit.png": unit_figure(xor_trace(), title="Hidden unit 1 of that network as a circuit"),
        "mazur_network.png": network_figure(mazur_trace(), weight_labels=True, names=names,
                                            title="Mazur's network at his initial weights"),
        "report_spread.png": spread_figure(reproduced()),
    }
    for name, fig in drawn.items():
        fig.savefig(out / name, dpi=110)


def explorer(out: Path) -> None:
    """``out/explorer_xor.html``: the explorer of the report's XOR run (seed 0), written by the CLI as a user
    would (``backproplab train xor`` then ``backproplab explore``); conf.py copies it to the site's root."""
    import shutil
    import tempfile

    from backproplab.cli import main

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stdout(io.StringIO()):
        run = Path(tmp) / "xor"
        if main(["train", "xor", "--out", str(run), "--quiet"]) or main(["explore", str(run), "--quiet"]):
            raise RuntimeError("backproplab train/explore failed while building the docs")
        shutil.copyfile(run / "explorer.html", out / "explorer_xor.html")


def guide_links() -> dict[str, str]:
    """``{"backproplab.fit": "user_guide/training", ...}``: the guide page of every name the API lists."""
    links = {}
    for name in API_MODULES:
        module = importlib.import_module(name)
        for attr in public_names(module):
            page = guide_page(getattr(getattr(module, attr), "__module__", None) or name)
            if page:
                links[f"{name}.{attr}"] = page
    return links


def generate(app: Sphinx, config: Any) -> None:
    config.autosummary_context = {**config.autosummary_context, "guide": guide_links()}
    out = Path(app.srcdir) / "generated"
    out.mkdir(exist_ok=True)
    figures(out / "figures")
    explorer(out / "extra")
    for name, text in (("api.rst", api_rst()), ("cli.rst", cli_rst())):
        path = out / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:  # unchanged files keep Sphinx's cache
            path.write_text(text, encoding="utf-8")


def skip_foreign(app: Sphinx, what: str, name: str, obj: Any, skip: bool, options: Any) -> bool | None:
    """Leave out members a class inherits from outside backproplab (scikit-learn's ``score``, ``set_*_request``)."""
    module = getattr(obj, "__module__", None) or ""
    foreign = bool(module) and not module.startswith("backproplab")
    if what == "class" and (foreign or re.fullmatch(r"set_\w+_request", name)):
        return True
    return None


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("config-inited", generate)
    app.connect("autodoc-skip-member", skip_foreign)
    app.add_directive("bp-trace", TraceDirective)
    app.add_directive("bp-gradcheck", GradcheckDirective)
    app.add_directive("bp-mazur", MazurDirective)
    app.add_directive("bp-report", ReportDirective)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
