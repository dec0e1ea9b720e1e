// Spherical projection: see SphericalProjection.swift
