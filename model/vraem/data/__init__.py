"""Data shipped with the package: the observed VRAEM coca series and national context."""
