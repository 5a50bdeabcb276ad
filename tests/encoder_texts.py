"""Texts the backend tests compare encoders on (tests/test_onnx.py, tests/test_bf16.py): short and long,
emoji, sarcasm, a request, and one over 128 tokens."""

TEXTS = ["Delivery was late again.", "Love it!", "ok",
         "Great, another delay 🙄 thanks for nothing.",
         "The checkout page crashes whenever I try to pay with PayPal, and support never answers my emails.",
         "It would be great if I could export my invoices as CSV.",
         "Cancelled my subscription after the third wrong order; the refund took three weeks.",
         " ".join(["The driver left the box in the rain and everything inside was soaked."] * 14)]  # > 128 tokens
