# Thin aliases for ./dev, which does the real work (and installs what is missing).
.PHONY: demo test image-test lint bench setup
demo test image-test lint bench setup:
	./dev $@
