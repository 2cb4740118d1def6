"""A prediction in words, for logs and terminals: what a training script prints after each checkpoint.

Reads the fit document (``Client.prediction`` / ``Client.fit``) or its bare ``result``; every key is
optional so that ``no_signal``, ``not_identified``, ``already_emerged`` and ``insufficient_data``
results read too.
"""

from __future__ import annotations

from typing import Any, List, Mapping, Optional


def _e(x: float) -> str:
    """Two significant figures in e-notation without the '+': 7.2e22."""
    mantissa, exponent = f"{x:.1e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def _beyond(ratio: float) -> str:
    """How far the prediction lies past the largest checkpoint: 3.7×, 420×, 4.5e9×."""
    if ratio < 1:
        return f"{ratio:.2f}× your largest checkpoint's compute"
    shown = f"{ratio:.1f}" if ratio < 100 else f"{ratio:.0f}" if ratio < 10_000 else _e(ratio)
    return f"{shown}× beyond your largest checkpoint"


def describe(document: Mapping[str, Any], largest_flops: Optional[float] = None,
             warnings: bool = True) -> str:
    """One line (plus one per warning), e.g. ``capability expected at 7.2e22 FLOPs (5–95%:
    3.0e22–2.7e23), 3.7× beyond your largest checkpoint; E* = 1.847 nats``.

    ``largest_flops``: the compute of the largest checkpoint you have trained, for the ratio (the
    result does not carry it)."""
    result = document.get("result", document) if isinstance(document, Mapping) else {}
    if not isinstance(result, Mapping) or "status" not in result:
        status = document.get("status") if isinstance(document, Mapping) else None
        return f"no prediction yet (fit {status or 'unknown'})"
    status = result.get("status")
    emergence = result.get("emergence") or {}
    loss = emergence.get("loss") or {}
    flops = emergence.get("flops") or {}
    lines: List[str] = []
    if status == "ok":
        mle = flops.get("mle")
        pct = flops.get("percentiles") or {}
        band = loss.get("alpha_band")
        if isinstance(band, Mapping):
            # The law's curvature is not pinned (docs/method.md §6.6): no single estimate, the band.
            text = (f"the law's curvature is not pinned: for α between {band['alpha_low']:.2f} and {band['alpha_high']:.2f} "
                    f"the data put E* between {band['loss_low']:.3f} and {band['loss_high']:.3f} nats")
            if "5" in pct and "95" in pct:
                text += f" (5–95% over that band: {_e(pct['5'])}–{_e(pct['95'])} FLOPs)"
            lines.append(text)
        elif flops and flops.get("reachable") is False:
            lines.append(f"capability expected at a pretraining loss of {loss.get('mle', float('nan')):.3f} nats, "
                         "which the fitted scaling law never reaches (below its irreducible loss)")
        elif isinstance(mle, (int, float)):
            text = f"capability expected at {_e(mle)} FLOPs"
            if "5" in pct and "95" in pct:
                text += f" (5–95%: {_e(pct['5'])}–{_e(pct['95'])})"
            elif "5" in pct:
                text += f" (5–95%: {_e(pct['5'])}–unreachable)"
            if largest_flops:
                text += ", " + _beyond(mle / largest_flops)
            if isinstance(loss.get("mle"), (int, float)):
                text += f"; E* = {loss['mle']:.3f} nats"
            lines.append(text)
        elif isinstance(loss.get("mle"), (int, float)):
            lines.append(f"capability expected at a pretraining loss of {loss['mle']:.3f} nats "
                         "(no scaling law to turn it into FLOPs)")
        else:
            lines.append("fit succeeded but gives no point estimate")
    elif status == "no_signal":
        text = "no signal yet: no finetuned run has left the chance floor"
        if isinstance(loss.get("upper_bound"), (int, float)):
            text += f"; emergence needs a loss below {loss['upper_bound']:.3f} nats"
        if isinstance(flops.get("lower_bound"), (int, float)):
            text += f" (more than {_e(flops['lower_bound'])} FLOPs)"
        lines.append(text)
    elif status == "not_identified":
        # The data bound E* but cannot pin it (README, "Identified or only bounded"): a bound, no forecast.
        text = "not yet predictable: the data bound the emergence point but cannot pin it"
        if isinstance(loss.get("upper_bound"), (int, float)):
            text += f"; it lies below a loss of {loss['upper_bound']:.3f} nats"
        if isinstance(flops.get("lower_bound"), (int, float)):
            text += f" (more than {_e(flops['lower_bound'])} FLOPs)"
        text += "; the warnings say which runs would pin it"
        lines.append(text)
    elif status == "already_emerged":
        text = "already emerged: few-shot accuracy is above the floor"
        if isinstance(loss.get("mle"), (int, float)):
            text += f" from a loss of about {loss['mle']:.3f} nats"
        lines.append(text)
    elif status == "insufficient_data":
        lines.append("insufficient data: finetune with at least 3 data amounts to fit the emergence law")
    else:
        lines.append(f"fit status {status}")
    if warnings:
        for w in result.get("warnings") or []:
            lines.append(f"  warning {w.get('code')}: {w.get('message')}")
    return "\n".join(lines)
