"""Central models for many stations: publish trained models to a shared folder, install them at stations.

- :mod:`~banknote_guard.stations.shared`: the shared folder a training workstation publishes to
  (:class:`SharedModels`: numbered versions, each with its SHA-256, in a manifest; withdrawing a
  version).
- :mod:`~banknote_guard.stations.station`: a station's own folder (:class:`Station`: check for a
  newer model at start and on demand, verify its hashes, install it, keep the previous one to roll
  back to, and name the model that judges each note).

No Qt and no command line here; ``banknote-guard model ...`` and the GUI reach it through
:mod:`banknote_guard.api`.
"""
