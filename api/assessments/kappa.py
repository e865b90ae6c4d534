"""Agreement between two markers on one criterion: quadratic-weighted Cohen's kappa (pure, no database).

For N pairs of scores (a_i, b_i) on the criterion's ordered levels 0..k-1:

    w_ij = (i - j)^2 / (k - 1)^2                      disagreement weight, 0 on the diagonal
    O_ij = share of pairs rated (i, j)                 observed
    E_ij = (share of a at i) * (share of b at j)       expected by chance from each marker's own spread
    kappa = 1 - sum(w * O) / sum(w * E)

1 is perfect agreement, 0 what chance would give, below 0 worse than chance. When the chance
disagreement is 0 (both markers gave one and the same level to everything), kappa is undefined:
1.0 if they also agree on every pair, else None.
"""

from __future__ import annotations

from collections.abc import Sequence


def quadratic_weighted_kappa(a: Sequence[int], b: Sequence[int], levels: Sequence[int]) -> float | None:
    """Kappa for paired scores `a` and `b`, each a score from `levels` (the criterion's level scores,
    in order). None with no pairs, or when undefined (see above)."""
    if len(a) != len(b):
        raise ValueError("kappa needs the same number of scores from each marker")
    if not a:
        return None
    index = {score: i for i, score in enumerate(levels)}
    try:
        pairs = [(index[x], index[y]) for x, y in zip(a, b, strict=True)]
    except KeyError as exc:
        raise ValueError(f"{exc.args[0]} is not a level of this criterion") from None
    k, n = len(levels), len(pairs)
    if k < 2:
        return None
    observed = [[0.0] * k for _ in range(k)]
    for i, j in pairs:
        observed[i][j] += 1 / n
    row = [sum(observed[i]) for i in range(k)]
    col = [sum(observed[i][j] for i in range(k)) for j in range(k)]
    num = den = 0.0
    for i in range(k):
        for j in range(k):
            w = (i - j) ** 2 / (k - 1) ** 2
            num += w * observed[i][j]
            den += w * row[i] * col[j]
    if den == 0:
        return 1.0 if num == 0 else None
    return 1 - num / den


def mean_level_drift(coach: Sequence[int], agreed: Sequence[int], levels: Sequence[int]) -> float | None:
    """How far a coach's scores sit from the agreed ones, in levels, on average (signed: + is more
    generous than agreed, - harsher)."""
    if not coach:
        return None
    index = {score: i for i, score in enumerate(levels)}
    return sum(index[c] - index[g] for c, g in zip(coach, agreed, strict=True)) / len(coach)
