"""Reusable widgets: charts painted with QPainter, the result card, the thumbnail grid."""
