"""Scale bench flows (placeholder)."""
def run_flows(app, repeat):
    return []
