"""MIUI screens as data: the catalogue of every screen and popup the flows touch, and
``identify`` that names what a UI hierarchy shows."""

from .catalogue import Catalogue, Identification, KnownScreen, Matcher, Signature, default_catalogue, identify

__all__ = ["Catalogue", "Identification", "KnownScreen", "Matcher", "Signature", "default_catalogue", "identify"]
