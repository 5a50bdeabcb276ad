"""Loading the shipped model artifacts (the artifacts themselves live in ./models)."""
