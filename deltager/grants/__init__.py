"""Grants, expense claims, payout batches, repayments and follow-up talks (step 4)."""
