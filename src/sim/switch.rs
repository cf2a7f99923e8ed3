//! An IEEE 802.1D learning bridge (in progress).
