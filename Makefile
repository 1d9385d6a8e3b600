# Thin wrappers: the scripts are what a developer and CI run.
.PHONY: demo test check install
install:
	scripts/install
demo:
	scripts/demo
test:
	scripts/test
check:
	scripts/check
