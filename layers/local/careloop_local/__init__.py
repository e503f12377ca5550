"""Local-mode support: stand-ins for AWS services that moto lacks, used by `make run` and the tests."""
