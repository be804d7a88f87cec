"""Embedded local environment of cloudshift.migration: PKI, upstream servers, democtl."""
