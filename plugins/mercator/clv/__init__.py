"""Customer lifetime value and churn: BG/NBD purchases, Gamma-Gamma spend, churn tiers, model cards.

`engine` is the only module that imports `lifetimes`; everything else works on fitted parameters.
"""
