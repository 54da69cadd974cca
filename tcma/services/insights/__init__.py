"""Use cases: partner engagement scores, churn flags and the programme's KPIs."""
