"""Write the three invented data sets that the MMRM is checked on against R (issue 31):
missing visits; complete data; a site with one subject. Run from this folder, then
``Rscript mmrm_reference.R mmrm_missing mmrm_complete mmrm_single_site``."""

import numpy as np
import pandas as pd

VISITS = ["W2", "W4", "W8", "W12"]
COV = np.array([[30, 18, 14, 10], [18, 36, 20, 16], [14, 20, 42, 25], [10, 16, 25, 50]], float)


def make(seed: int, subjects: int, missing: float, single_site: bool) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(subjects):
        arm = "TOFA5" if rng.uniform() < 2 / 3 else "PLCB"
        base = rng.uniform(12, 40)
        smoking = rng.choice(["never", "ever"])
        site = "S9" if single_site and i == 0 else rng.choice(["S1", "S2", "S3"])
        error = rng.multivariate_normal(np.zeros(4), COV)
        for j, visit in enumerate(VISITS):
            if j > 0 and rng.uniform() < missing:
                continue
            chg = (
                -2 * (j + 1)
                - (5 + 2 * j) * (arm == "TOFA5")
                - 0.3 * (base - 25)
                + (1.5 if smoking == "ever" else 0)
                + error[j]
            )
            rows.append(
                {
                    "id": f"S{i:03d}",
                    "visit": visit,
                    "arm": arm,
                    "base": round(base, 1),
                    "smoking": smoking,
                    "site": site,
                    "chg": round(chg, 2),
                }
            )
    return pd.DataFrame(rows)


if __name__ == "__main__":
    make(11, 120, 0.12, False).to_csv("mmrm_missing.csv", index=False)
    make(12, 60, 0.0, False).to_csv("mmrm_complete.csv", index=False)
    make(13, 45, 0.10, True).to_csv("mmrm_single_site.csv", index=False)
