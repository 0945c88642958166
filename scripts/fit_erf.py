#!/usr/bin/python3
"""Fits the erf coefficients of src/kernels/simd_tmpl.h (erf_block): weighted least squares
on Chebyshev nodes against Python's double erf/erfc, no dependencies.
  |x| < 1:          erf(x)/x as a polynomial in 2x^2 - 1 (degree 6, relative weight)
  1 <= x < 3.92:    erfc(x) e^(x^2) as a polynomial in (2x - 4.92)/2.92 (degree 11)
Prints the max relative error per degree and the chosen coefficients (rounded to float),
lowest order first. usage: /usr/bin/python3 scripts/fit_erf.py"""
import math, struct
def f32(v): return struct.unpack('f', struct.pack('f', v))[0]
def lsq(xs, ys, ws, deg):
    # columns: s^k ; weighted; modified Gram-Schmidt QR
    n=len(xs); m=deg+1
    A=[[ws[i]*xs[i]**k for k in range(m)] for i in range(n)]
    b=[ws[i]*ys[i] for i in range(n)]
    Q=[[A[i][k] for i in range(n)] for k in range(m)]
    R=[[0.0]*m for _ in range(m)]
    for k in range(m):
        for j in range(k):
            r=sum(Q[j][i]*Q[k][i] for i in range(n)); R[j][k]=r
            for i in range(n): Q[k][i]-=r*Q[j][i]
        nr=math.sqrt(sum(q*q for q in Q[k])); R[k][k]=nr
        Q[k]=[q/nr for q in Q[k]]
    qb=[sum(Q[k][i]*b[i] for i in range(n)) for k in range(m)]
    c=[0.0]*m
    for k in range(m-1,-1,-1):
        c[k]=(qb[k]-sum(R[k][j]*c[j] for j in range(k+1,m)))/R[k][k]
    return c
def horner(c,s):
    p=0.0
    for v in reversed(c): p=p*s+v
    return p
N=3000
# region A: erf(x)/x over u=x^2 in [0,1], s=2u-1, relative weight
xsA=[]; ysA=[]; wsA=[]
for i in range(N):
    s=-math.cos(math.pi*(i+0.5)/N); u=(s+1)/2; x=math.sqrt(u)
    y=math.erf(x)/x if x>0 else 2/math.sqrt(math.pi)
    xsA.append(s); ysA.append(y); wsA.append(1/y)
for deg in (6,7,8):
    c=lsq(xsA,ysA,wsA,deg)
    e=max(abs(horner(c,s)-y)/y for s,y in zip(xsA,ysA))
    print('A',deg,e)
cA=lsq(xsA,ysA,wsA,6)
# region B: erfc(x)*exp(x^2) on x in [1, 3.92], s = (2x - 4.92)/2.92
lo,hi=1.0,3.92
xsB=[];ysB=[];wsB=[]
for i in range(N):
    s=-math.cos(math.pi*(i+0.5)/N); x=lo+(s+1)/2*(hi-lo)
    y=math.erfc(x)*math.exp(x*x)
    xsB.append(s); ysB.append(y); wsB.append(1/y)
for deg in (8,10,12):
    c=lsq(xsB,ysB,wsB,deg)
    e=max(abs(horner(c,s)-y)/y for s,y in zip(xsB,ysB))
    print('B',deg,e)
cB=lsq(xsB,ysB,wsB,11)
print('A=',[repr(f32(v)) for v in cA])
print('B=',[repr(f32(v)) for v in cB])
