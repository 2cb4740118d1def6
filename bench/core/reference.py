#!/usr/bin/env python3
"""Independent reference implementation of the emergence fit (docs/method.md §2-5) in numpy/scipy.

It does the same work as `emergence bench`: the maximum-likelihood fit by multi-start bounded least
squares (scipy.optimize.least_squares, trust-region reflective; every start once softplus-smoothed
then exact, and once exact), a checkpoint-stratified bootstrap refit (smoothed, then exact) from the
MLE and the best competing optimum, and an affine-invariant ensemble MCMC (the stretch move, vectorised over each
half-ensemble as emcee does) over u = (E*, E_max, alpha, A, B, Delta, log sigma).

It serves two purposes: cross-checking the Swift optimiser's MLE (RSS and E*), and the baseline
column of bench/core/run.sh. Usage: reference.py STUDY.csv [--max-flops F] [--bootstrap N]
[--mcmc-steps N] [--mcmc-walkers W] [--seed S]; prints one JSON object.
"""
import argparse, csv, json, math, time
import numpy as np
from scipy.optimize import least_squares


def load(path, max_flops):
    rows = []
    with open(path) as f:
        for r in csv.DictReader(f):
            flops = float(r["flops"]) if r.get("flops") else 6 * float(r["parameters"]) * float(r["tokens"])
            if max_flops is not None and flops > max_flops:
                continue
            few = r["setting"] == "few_shot"
            rows.append(dict(ck=r["checkpoint"], x=float(r["pretrain_loss"]), y=float(r["accuracy"]), few=few,
                             d=None if few else float(r["finetune_examples"]),
                             shots=int(r["shots"]) if few and r["shots"] else None, flops=flops))
    return rows


class Model:
    def __init__(self, rows, form="log_power"):
        shots = [r["shots"] for r in rows if r["few"]]
        self.d0 = float(max(set(shots), key=shots.count))
        self.form = form
        self.x = np.array([r["x"] for r in rows]); self.y = np.array([r["y"] for r in rows])
        self.f = np.array([1.0 if r["few"] else 0.0 for r in rows])
        self.D = np.array([self.d0 if r["few"] else r["d"] for r in rows])
        self.amounts = sorted({r["d"] for r in rows if not r["few"]})
        cks = sorted({r["ck"] for r in rows}); idx = {c: i for i, c in enumerate(cks)}
        self.ck = np.array([idx[r["ck"]] for r in rows])
        xmin, xmax = self.x.min(), self.x.max()
        lo_a, hi_a = (0.05, 6.0) if form == "log_power" else (0.005, 1.5)
        self.lower = np.array([0, lo_a, xmin - 5, 0, -0.5, -0.5]); self.upper = np.array([50, hi_a, xmax + 5, 100, 1.5, 0.5])

    def g(self, d, alpha):
        return np.log(d) ** alpha if self.form == "log_power" else d ** alpha

    def mean(self, t, x=None, f=None, D=None, tau=0.0):
        x = self.x if x is None else x; f = self.f if f is None else f; D = self.D if D is None else D
        k, a, c, A, B, dl = t
        z = k * self.g(D, a) + c - x
        # tau > 0: the softplus-smoothed ReLU of the first pass (docs/method.md section 4).
        h = np.maximum(z, 0) if tau == 0 else np.maximum(z, 0) + tau * np.log1p(np.exp(-np.abs(z) / tau))
        return B + dl * f + A * h

    def fit_from(self, t0, x, y, f, D, smooth=False):
        t0 = np.clip(t0, self.lower, self.upper)
        if smooth:
            t0 = least_squares(lambda t: self.mean(t, x, f, D, 0.005) - y, t0, bounds=(self.lower, self.upper),
                               method="trf", xtol=1e-10, ftol=1e-6, gtol=1e-10).x
        res = least_squares(lambda t: self.mean(t, x, f, D) - y, t0,
                            bounds=(self.lower, self.upper), method="trf", xtol=1e-12, ftol=1e-12, gtol=1e-12)
        return res.x, 2 * res.cost

    def starts(self, count=10):
        """Grid over (alpha, E(Dmin), E(Dmax)); (B, Delta, A) by linear least squares."""
        xmin, xmax = self.x.min(), self.x.max(); span = max(xmax - xmin, 0.05)
        grid = np.linspace(xmin - 0.6 * span - 0.05, xmax + 0.05, 28)
        dmin, dmax = self.amounts[0], self.amounts[-1]
        cands = []
        for alpha in [0.3, 0.6, 1, 1.5, 2, 3, 4.5]:
            gmin, gmax, gD = self.g(dmin, alpha), self.g(dmax, alpha), self.g(self.D, alpha)
            for i in range(28):
                for j in range(i, 28):
                    k = (grid[j] - grid[i]) / (gmax - gmin); c = grid[i] - k * gmin
                    z = np.maximum(k * gD + c - self.x, 0)
                    X = np.column_stack([np.ones_like(z), self.f, z])
                    beta, *_ = np.linalg.lstsq(X, self.y, rcond=None)
                    if beta[2] < 0:
                        beta2, *_ = np.linalg.lstsq(X[:, :2], self.y, rcond=None); beta = np.array([*beta2, 0.0])
                    rss = float(np.sum((X @ beta - self.y) ** 2))
                    cands.append((rss, [k, alpha, c, beta[2], beta[0], beta[1]], k * self.g(self.d0, alpha) + c))
        cands.sort(key=lambda c: c[0])
        chosen = []
        for c in cands:
            if len(chosen) >= count: break
            if all(abs(c[2] - o[2]) >= 0.03 for o in chosen): chosen.append(c)
        return [np.array(c[1]) for c in chosen]

    def estar(self, t):
        return t[0] * self.g(self.d0, t[1]) + t[2]


def mle(m):
    """Every start twice (smoothed then exact, and exact); keeps the best and the competing optima."""
    optima = []
    for s in m.starts():
        for smooth in (True, False):
            t, rss = m.fit_from(s, m.x, m.y, m.f, m.D, smooth)
            optima.append((rss, t))
    optima.sort(key=lambda o: o[0])
    best = optima[0]
    other = next((o[1] for o in optima[1:] if abs(m.estar(o[1]) - m.estar(best[1])) > 0.02), None)
    return best[1], best[0], other


def bootstrap(m, theta, n, rng, competing=None):
    ft = sorted({c for c in m.ck[m.f == 0]}); other = sorted(set(m.ck) - set(ft))
    rows_of = {c: np.where(m.ck == c)[0] for c in set(m.ck)}
    out = []
    for _ in range(n):
        idx = np.concatenate([rows_of[c] for stratum in (ft, other) if stratum
                              for c in rng.choice(stratum, size=len(stratum), replace=True)])
        # Refit (smoothed, then exact) from the MLE and the best competing optimum; keep the better.
        fits = [m.fit_from(s, m.x[idx], m.y[idx], m.f[idx], m.D[idx], True) for s in ([theta] if competing is None else [theta, competing])]
        t, _ = min(fits, key=lambda r: r[1])
        out.append(m.estar(t))
    return np.array(out)


def mcmc(m, theta, sigma, walkers, steps, burn, rng):
    dmax = m.amounts[-1]; n = len(m.y)
    lo = np.array([m.lower[2], m.lower[2], m.lower[1], 0, -0.5, -0.5, math.log(1e-5)])
    hi = np.array([m.upper[2], m.upper[2], m.upper[1], 100, 1.5, 0.5, 0.0])

    def logp(U):  # U: (w, 7)
        out = np.full(len(U), -np.inf)
        e0, emax, a = U[:, 0], U[:, 1], U[:, 2]
        ok = np.all((U >= lo) & (U <= hi), axis=1) & (emax >= e0)
        g0, gm = m.g(m.d0, a), m.g(dmax, a)
        k = np.where(ok, (emax - e0) / (gm - g0), 0); c = e0 - k * g0
        ok &= (k <= 50)
        for i in np.where(ok)[0]:
            t = np.array([k[i], a[i], c[i], U[i, 3], U[i, 4], U[i, 5]])
            rss = np.sum((m.mean(t) - m.y) ** 2); ls = U[i, 6]
            out[i] = -n * ls - rss / (2 * math.exp(2 * ls))
        return out

    u0 = np.array([m.estar(theta), theta[0] * m.g(dmax, theta[1]) + theta[2], theta[1], theta[3], theta[4], theta[5], math.log(sigma)])
    P = u0 + 1e-3 * rng.standard_normal((walkers, 7)); lp = logp(P)
    half = walkers // 2; kept = []; acc = 0
    for step in range(burn + steps):
        for s in (0, 1):
            mine = np.arange(half) + s * half; other = np.arange(half) + (1 - s) * half
            z = ((2 - 1) * rng.random(half) + 1) ** 2 / 2
            partners = P[rng.choice(other, size=half)]
            Y = partners + z[:, None] * (P[mine] - partners)
            lpy = logp(Y)
            accept = np.log(rng.random(half)) < 6 * np.log(z) + lpy - lp[mine]
            P[mine[accept]] = Y[accept]; lp[mine[accept]] = lpy[accept]
            if step >= burn: acc += accept.sum()
        if step >= burn: kept.append(P[:, 0].copy())
    return np.array(kept).ravel(), acc / (steps * walkers)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("csv"); ap.add_argument("--max-flops", type=float); ap.add_argument("--bootstrap", type=int, default=1000)
    ap.add_argument("--mcmc-steps", type=int, default=5000); ap.add_argument("--mcmc-walkers", type=int, default=32)
    ap.add_argument("--mcmc-burn-in", type=int, default=1000); ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--form", default="log_power")
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    m = Model(load(a.csv, a.max_flops), a.form)
    t0 = time.perf_counter(); theta, rss, other = mle(m); t1 = time.perf_counter()
    boot = bootstrap(m, theta, a.bootstrap, rng, other) if a.bootstrap else np.array([]); t2 = time.perf_counter()
    sigma = math.sqrt(rss / len(m.y))
    chain, acc = mcmc(m, theta, sigma, a.mcmc_walkers, a.mcmc_steps, a.mcmc_burn_in, rng) if a.mcmc_steps else (np.array([]), 0); t3 = time.perf_counter()
    pct = lambda v: {str(q): float(np.percentile(v, q)) for q in (5, 10, 25, 50, 75, 90, 95)} if len(v) else {}
    print(json.dumps(dict(e_star=float(m.estar(theta)), rss=float(rss), theta=list(map(float, theta)),
                          mle_s=t1 - t0, bootstrap_s=t2 - t1, mcmc_s=t3 - t2,
                          bootstrap_percentiles=pct(boot), mcmc_percentiles=pct(chain), mcmc_acceptance=float(acc)), indent=1))


if __name__ == "__main__":
    main()
