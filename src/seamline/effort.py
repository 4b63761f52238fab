"""Predicted effort: CES modelled from behaviour for the customers who did not
answer a survey, so the effort KPI can be corrected for response bias.

Features per customer active in the period (all from rollups): contacts,
repeat contacts, transfers, repeat_info, re-authentications, channel
switches (transitions), non-frictionless transitions and journey length
(events per journey).  Respondents' target is their mean CES in the period.
"""

from __future__ import annotations

from typing import Any

from seamline.kpis import Period
from seamline.warehouse import Warehouse

FEATURES = ("contacts", "repeat_contacts", "transfers", "repeat_info", "reauth", "channel_switches",
            "frictioned_switches", "journey_events")


def effort_frame(wh: Warehouse, start, end, channels: tuple[str, ...] = (), topics: tuple[str, ...] = (),
                 sample_mod: int = 1):
    """One row per active customer: FEATURES + ces (mean answer, NaN when none).
    ``channels`` / ``topics`` restrict which survey answers count; with
    ``sample_mod`` > 1 only customers with cityHash64(customer) % sample_mod = 0
    (a deterministic uniform sample)."""
    import pandas as pd

    p = Period.of(start, end).params() | {"channels": list(channels), "topics": list(topics), "mod": max(1, int(sample_mod))}
    cols = ["customer", *FEATURES, "ces", "answers"]
    frame = wh.df(  # columnar fetch: one row per active customer
        "SELECT d.customer AS customer, d.contacts AS contacts, d.repeat_contacts AS repeat_contacts, "
        "       d.transfers AS transfers, d.repeat_info AS repeat_info, d.reauth AS reauth, "
        "       ifNull(t.n, 0) AS channel_switches, ifNull(t.bad, 0) AS frictioned_switches, "
        "       toFloat64(ifNull(j.avg_events, 0)) AS journey_events, toFloat64(s.ces) AS ces, s.answers AS answers "
        "FROM (SELECT customer, sum(contacts) AS contacts, sum(repeat_contacts) AS repeat_contacts, "
        "             sum(transfers) AS transfers, sum(repeat_info) AS repeat_info, sum(reauth) AS reauth "
        "      FROM customer_days WHERE day >= {start_day:Date} AND day < {end_day:Date} "
        "        AND cityHash64(customer) % {mod:UInt64} = 0 "
        "      GROUP BY customer HAVING sum(inbound) > 0) AS d "
        "LEFT JOIN (SELECT customer, count() AS n, countIf(frictionless = 0) AS bad FROM transitions "
        "           WHERE at >= {start:DateTime64(3, 'UTC')} AND at < {end:DateTime64(3, 'UTC')} "
        "             AND cityHash64(customer) % {mod:UInt64} = 0 GROUP BY customer) AS t "
        "  ON t.customer = d.customer "
        "LEFT JOIN (SELECT customer, avg(events) AS avg_events FROM journeys "
        "           WHERE start_at >= {start:DateTime64(3, 'UTC')} AND start_at < {end:DateTime64(3, 'UTC')} "
        "             AND cityHash64(customer) % {mod:UInt64} = 0 GROUP BY customer) AS j "
        "  ON j.customer = d.customer "
        "LEFT JOIN (SELECT customer, avg(ces) AS ces, count() AS answers FROM surveys "
        "           WHERE at >= {start:DateTime64(3, 'UTC')} AND at < {end:DateTime64(3, 'UTC')} "
        "             AND (length({channels:Array(String)}) = 0 OR channel IN {channels:Array(String)}) "
        "             AND (length({topics:Array(String)}) = 0 OR topic IN {topics:Array(String)}) "
        "             AND cityHash64(customer) % {mod:UInt64} = 0 "
        "           GROUP BY customer) AS s "
        "  ON s.customer = d.customer "
        # in a fixed order: the CV folds are drawn by row, so the join's
        # arbitrary order made the fitted model differ from call to call
        "ORDER BY customer", p)
    if frame.empty:
        return pd.DataFrame(columns=cols)
    frame = frame[cols]
    frame.loc[frame["answers"] == 0, "ces"] = float("nan")
    return frame


def predicted_effort(wh: Warehouse, start, end, min_respondents: int = 30, channels: tuple[str, ...] = (),
                     topics: tuple[str, ...] = (), max_customers: int | None = None) -> dict[str, Any]:
    """Model summary: CV error, coefficients, adjusted CES, calibration bins.

    With ``max_customers`` the model is fitted on a deterministic uniform
    sample of at most about that many active customers (interactive use); the
    adjusted mean is then an estimate from the sample (``sample_fraction``)."""
    import numpy as np

    from seamline.stats.effort_model import adjusted_ces, calibration, fit_effort_model, predict

    mod = 1
    if max_customers:
        # sized on every customer (one row each, no scan of the period): at
        # least as many as are active in any period, so the sample stays
        # within max_customers; a short period gets a smaller one
        customers = int(wh.scalar("SELECT count() FROM retention_customers") or 0)
        mod = max(1, -(-customers // max_customers))
    frame = effort_frame(wh, start, end, channels, topics, sample_mod=mod)
    resp = frame[frame["ces"].notna()]
    non = frame[frame["ces"].isna()]
    out: dict[str, Any] = {"respondents": int(len(resp)), "non_respondents": int(len(non)), "available": False,
                           "cv_mae": None, "cv_rmse": None, "observed_mean": None, "predicted_non_respondent_mean": None,
                           "adjusted_mean": None, "coefficients": {}, "calibration": [], "sample_fraction": 1 / mod}
    if len(resp) < min_respondents:
        return out
    X = resp[list(FEATURES)].to_numpy(float)
    y = resp["ces"].to_numpy(float)
    model = fit_effort_model(X, y, FEATURES)
    adj = adjusted_ces(model, X, y, non[list(FEATURES)].to_numpy(float))
    out.update(
        available=True, cv_mae=model.cv_mae, cv_rmse=model.cv_rmse, alpha=model.alpha,
        observed_mean=adj.observed_mean, predicted_non_respondent_mean=adj.predicted_nonrespondent_mean,
        adjusted_mean=adj.adjusted_mean,
        coefficients={f: float(c) for f, c in zip(FEATURES, model.coef or ())},
        calibration=[{"predicted": float(b.pred_mean), "observed": float(b.obs_mean), "n": int(b.n)}
                     for b in calibration(y, np.asarray(predict(model, X)))],
    )
    return out
