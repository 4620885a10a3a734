"""zoo's pytest plugin (entry point ``pytest11``, active wherever zoo-core is installed): the ``slow`` marker zoo's
own suites use, declared for a plugin's test suite too, so ``pytest -m "not slow"`` works there without a
pytest configuration of its own. Light on purpose: pytest imports it at every start."""


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes more than a few seconds (training to quality, installs)")
