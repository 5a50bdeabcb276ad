"""The executive summary: a few plain sentences generated from the figures, most important first."""

from __future__ import annotations

from typing import Any

from ..aggregate.periods import partial_text


def _period_name(figures: dict[str, Any], period: str | None, preposition: bool = False) -> str:
    from ..aggregate.periods import period_name

    return period_name(str(period), figures["meta"]["period"], preposition)


def executive_summary(figures: dict[str, Any]) -> list[str]:
    o, meta = figures["overall"], figures["meta"]
    if not o["comments"]:
        return ["No comments are stored for this range yet: run `voiceminer mine` on an export."]
    lines = []
    net = round(100 * (o["positive_share"] - o["negative_share"]))
    scores = []
    if o.get("nps") and o["nps"]["nps"] is not None:
        scores.append(f"NPS {o['nps']['nps']:+.0f} from {o['nps']['responses']:,} survey answers")
    if o.get("csat") and o["csat"]["csat"] is not None:
        scores.append(f"CSAT {o['csat']['csat']:.0f}% from {o['csat']['responses']:,} ratings")
    first, last = meta.get("first_date"), meta.get("last_date")
    span = "" if not (first and last) else f" on {first}" if first == last else f" between {first} and {last}"
    lines.append(f"{o['comments']:,} comments from {o['sources']} source(s){span}: net sentiment {net:+d} ({o['negative_share']:.0%} negative)"
                 + (f"; {', '.join(scores)}." if scores else "."))
    periods = figures["periods"]
    if len(periods) >= 2:
        last, prev = periods[-1], periods[-2]
        held = (meta.get("partial_periods") or {}).get(last["period"])
        part = f" ({partial_text(held)} so far)" if held else ""
        lines.append(f"Current period, {_period_name(figures, last['period'])}{part}: {last['comments']:,} comments, "
                     f"net sentiment {last['net_sentiment']:+.0f} ({last['net_sentiment'] - prev['net_sentiment']:+.0f} "
                     f"on the period before).")
    alerts = figures["alerts"]
    if alerts:
        high = sum(a["severity"] == "high" for a in alerts)
        lines.append(f"{len(alerts)} alert(s) this {meta['period']}" + (f", {high} high" if high else "") + ": "
                     + "; ".join(a["label"] for a in alerts[:4]) + (" and more" if len(alerts) > 4 else "") + ".")
    movers = [t for t in figures["themes"] if t.get("current") and t["current"]["change_vs_baseline_pts"] is not None
              and t["comments"] >= meta["min_volume"]]
    movers.sort(key=lambda t: (-abs(t["current"]["change_vs_baseline_pts"]), t["id"]))
    if movers:
        parts = []
        for t in movers[:2]:
            c = t["current"]
            parts.append(f"{t['label']} {'up' if c['change_vs_baseline_pts'] >= 0 else 'down'} "
                         f"{abs(c['change_vs_baseline_pts']):.1f} points to {c['share']:.0%} of comments")
        lines.append("Biggest movers against the baseline: " + "; ".join(parts) + ".")
    spikes = [s for s in figures["spikes"] if s["test"] == "volume" and s["level"] == "cause"]
    explained = [(rc, c) for rc in figures["root_causes"] for c in rc["causes"]
                 if c.get("spike") and c["distinctive_terms"]]
    if explained:  # the biggest explained spike; the others are in the report
        rc, cause = max(explained, key=lambda rc_c: (rc_c[1]["spike"]["count"], rc_c[1]["id"]))
        s, terms, named = cause["spike"], cause["distinctive_terms"], cause["share_of_peak_naming_terms"]
        lines.append(f"Root cause: {cause['label']} ({rc['label']}) spiked {_period_name(figures, s['period'], True)}, "
                     f"{s['count']} comments, {s['ratio']:.1f}x its baseline; {named:.0%} of them mention "
                     f"\"{terms[0]}\"" + (f" or \"{terms[1]}\"" if len(terms) > 1 else "") + ".")
    if not any(line.startswith("Root cause") for line in lines) and spikes:
        s = spikes[0]
        lines.append(f"Spike: {s['label']} {_period_name(figures, s['period'], True)}, {s['count']} comments, "
                     f"{s['ratio']:.1f}x its baseline.")
    top_causes = sorted((c for rc in figures["root_causes"] for c in rc["causes"]),
                        key=lambda c: (-c["negative_comments"], c["id"]))[:3]
    if top_causes:
        lines.append("Top complaint causes: " + ", ".join(f"{c['label']} ({c['negative_comments']})"
                                                          for c in top_causes) + ".")
    growing = [n for n in figures["needs"] if (n["growth_ratio"] or 0) >= 1.5]
    if figures["needs"]:
        n = growing[0] if growing else figures["needs"][0]
        growth = f", {n['growth_ratio']:.1f}x more often in the second half of the range" if n["growth_ratio"] else ""
        together = (f"; {n['related_comments']} with the related needs it links to"
                    if n.get("related_comments", 0) > n["comments"] else "")
        sampled = " of the sample" if meta.get("sample") else ""  # needs are grouped on the sample
        lines.append(f"Unmet need{' growing fastest' if growing else ''}: \"{n['statement']}\" "
                     f"({n['comments']} comments{sampled}{growth}{together}).")
    gaps = [p for p in figures["promises"] if p["verdict"] == "raised and going badly"]
    if gaps:
        lines.append("Promises customers say are not kept: " + "; ".join(
            f"\"{p['label']}\" ({p['mentions']} comments, {p['negative_share']:.0%} negative)" for p in gaps) + ".")
    for p in figures["promises"]:
        if p["verdict"] == "never raised" and p["rule_of_three"] is not None:
            lines.append(f"Never raised: \"{p['label']}\": 0 of {p['comments']:,} comments, so fewer than "
                         f"{p['rule_of_three']:.2%} of customers bring it up (95% confidence).")
    for q in figures["gone_quiet"][:2]:
        if q["level"] == "theme":
            lines.append(f"Gone quiet: {q['label']}, from {q['peak_mean']:.0f} comments a {meta['period']} "
                         f"({q['peak_periods'][0]} to {q['peak_periods'][1]}) to {q['recent_mean']:.1f}.")
    impact = (figures["drivers"] or {}).get("impact") or []
    if impact and (impact[0]["rating_impact"] or 0) > 0:
        d = impact[0]
        lines.append(f"Biggest drag on ratings: {d['label']}; without its comments the average rating would be "
                     f"{d['rating_impact']:.1f} points higher (0-100 scale).")
    # notes on the data itself come last: what the figures above could not read or place
    filed, left = o.get("undated_filed", 0), o.get("undated", 0) - o.get("undated_filed", 0)
    if filed:
        lines.append(f"{filed:,} comment(s) come from exports without dates: each is counted in the "
                     f"{meta['period']} it was collected (ingested).")
    if left > 0:
        lines.append(f"{left:,} comment(s) have no date (an empty date in an export that dates the others): they "
                     f"count in the totals but in no {meta['period']}.")
    sample = meta.get("sample")
    if sample:
        lines.append(f"This range holds {sample['of']:,} comments. Volumes, sentiment, themes, causes, spikes, "
                     f"segments, drivers, promises and complaint counts count every one; needs, quotes and "
                     f"emerging topics are read from a uniform sample of {sample['comments']:,} of them "
                     f"(setting report_sample).")
    foreign = (figures.get("data_quality") or {}).get("not_english") or {}
    if foreign:
        n = sum(foreign.values())
        lines.append(f"{n:,} comment(s) are not in English ({', '.join(f'{k} {v}' for k, v in list(foreign.items())[:5])}): "
                     "VoiceMiner's models read English, so the figures leave out their sentiment, themes and needs.")
    return lines
