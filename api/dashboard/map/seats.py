# Where to put the label seed of a municipality on the boundary raster (build_map.py).
# SEATS: main town (or seat) of each municipality whose name is not itself a place
# name in GeoNames; the first candidate found in the municipality's province wins.
# A seed only has to fall inside the municipality; build_map.py fails when two
# seeds land in one region or a region with a seed is missing.
SEATS = {
    "GM0059": ["Buitenpost"], "GM0060": ["Nes", "Hollum", "Ballum"], "GM0085": ["Oosterwolde"],
    "GM0086": ["Gorredijk", "Gordyk", "Beetsterzwaag"], "GM0090": ["Drachten"],
    "GM0093": ["West-Terschelling", "Midsland"], "GM0096": ["Oost-Vlieland", "Vlieland"],
    "GM0098": ["Wolvega"], "GM0171": ["Emmeloord"], "GM0263": ["Kerkdriel"], "GM0385": ["Volendam", "Edam"],
    "GM0394": ["Hoofddorp"], "GM0431": ["Oostzaan"], "GM0448": ["Den Burg"], "GM0498": ["Hoogkarspel"],
    "GM0523": ["Hardinxveld", "Giessendam"], "GM0532": ["Bovenkarspel", "Grootebroek"],
    "GM0613": ["Rhoon", "Poortugaal"], "GM0668": ["Beneden-Leeuwen"], "GM0703": ["Kruiningen", "Yerseke"],
    "GM0717": ["Domburg", "Koudekerke", "Veere"], "GM0736": ["Mijdrecht"], "GM0737": ["Burgum", "Bergum"],
    "GM0762": ["Deurne"], "GM0765": ["Oude Pekela"], "GM0777": ["Etten-Leur", "Etten"],
    "GM0784": ["Rijen", "Gilze"], "GM0820": ["Nuenen"], "GM0852": ["Monnickendam"], "GM0880": ["Wormer"],
    "GM0882": ["Schaesberg", "Nieuwenhagen"], "GM0944": ["Mook"], "GM0994": ["Valkenburg"],
    "GM1507": ["Horst"], "GM1509": ["Ulft", "Gendringen", "Terborg"], "GM1525": ["Sassenheim", "Voorhout"],
    "GM1581": ["Driebergen-Rijsenburg", "Doorn"], "GM1586": ["Lichtenvoorde", "Groenlo"],
    "GM1598": ["Avenhorn", "De Goorn"], "GM1621": ["Berkel en Rodenrijs", "Bergschenhoek"],
    "GM1640": ["Heythuysen", "Haelen", "Roggel"], "GM1641": ["Maasbracht", "Thorn"],
    "GM1652": ["Gemert"], "GM1655": ["Oudenbosch"], "GM1658": ["Heeze"], "GM1659": ["Beek en Donk"],
    "GM1667": ["Reusel"], "GM1669": ["Sint Odiliënberg", "Herkenbosch", "Posterholt"],
    "GM1676": ["Zierikzee"], "GM1680": ["Gieten", "Annen"], "GM1681": ["Nieuw-Buinen", "Borger", "Exloo"],
    "GM1690": ["Zuidwolde"], "GM1695": ["Kamperland", "Wissenkerke", "Colijnsplaat"],
    "GM1696": ["Loosdrecht", "Kortenhoef", "Nederhorst den Berg"], "GM1699": ["Roden"],
    "GM1700": ["Vriezenveen", "Vroomshoop"], "GM1701": ["Havelte", "Diever", "Dwingeloo"],
    "GM1705": ["Bemmel", "Huissen"], "GM1708": ["Steenwijk"], "GM1711": ["Echt", "Susteren"],
    "GM1719": ["Made", "Terheijden"], "GM1721": ["Heesch", "Nistelrode"], "GM1723": ["Chaam"],
    "GM1729": ["Gulpen"], "GM1731": ["Beilen"], "GM1734": ["Elst"], "GM1735": ["Goor", "Delden"],
    "GM1740": ["Kesteren", "Opheusden", "Dodewaard"], "GM1742": ["Rijssen"], "GM1771": ["Geldrop"],
    "GM1773": ["Olst", "Wijhe"], "GM1774": ["Denekamp", "Ootmarsum"], "GM1783": ["Naaldwijk"],
    "GM1842": ["Maasland", "Schipluiden"], "GM1876": ["Vorden", "Zelhem"], "GM1883": ["Sittard", "Geleen"],
    "GM1884": ["Roelofarendsveen"], "GM1891": ["Damwoude", "Damwâld"], "GM1892": ["Nieuwerkerk aan den IJssel"],
    "GM1894": ["Panningen"], "GM1895": ["Winschoten"], "GM1896": ["Genemuiden", "Hasselt"],
    "GM1900": ["Sneek"], "GM1901": ["Bodegraven"], "GM1903": ["Margraten", "Eijsden"],
    "GM1904": ["Maarssen", "Breukelen"], "GM1911": ["Anna Paulowna", "Wieringerwerf"],
    "GM1916": ["Leidschendam", "Voorburg"], "GM1924": ["Middelharnis", "Sommelsdijk"],
    "GM1926": ["Pijnacker", "Nootdorp"], "GM1930": ["Spijkenisse"], "GM1931": ["Schoonhoven", "Bergambacht"],
    "GM1940": ["Joure"], "GM1942": ["Bussum", "Naarden"], "GM1948": ["Veghel"], "GM1949": ["Franeker"],
    "GM1950": ["Ter Apel", "Vlagtwedde"], "GM1952": ["Hoogezand"], "GM1954": ["Nuth", "Schinnen"],
    "GM1955": ["Didam", "'s-Heerenberg"], "GM1959": ["Werkendam", "Almkerk"], "GM1960": ["Geldermalsen"],
    "GM1961": ["Vianen"], "GM1963": ["Oud-Beijerland"], "GM1966": ["Winsum", "Uithuizen"],
    "GM1969": ["Zuidhorn", "Leek"], "GM1970": ["Dokkum"], "GM1978": ["Giessenburg", "Nieuw-Lekkerland"],
    "GM1979": ["Appingedam", "Delfzijl"], "GM1980": ["Heerhugowaard"], "GM1982": ["Boxmeer", "Cuijk"],
    "GM1991": ["Uden"], "GM1992": ["Hellevoetsluis", "Brielle"], "GM0893": ["Nieuw-Bergen"],
    # Names that are also places elsewhere, or spelled otherwise in GeoNames.
    "GM0518": ["Den Haag", "'s-Gravenhage", "The Hague"], "GM0796": ["'s-Hertogenbosch", "Den Bosch"],
}
# Not in GeoNames' cities500 extract (or GeoNames has a homonymous village in
# another municipality): a point in the main town, WGS84 (lat, lon). Wins over SEATS.
POINTS = {
    "GM0431": (52.439, 4.876),  # Oostzaan
    "GM0498": (52.695, 5.177),  # Hoogkarspel
    "GM0532": (52.696, 5.242),  # Bovenkarspel
    "GM0668": (51.886, 5.511),  # Beneden-Leeuwen
    "GM0762": (51.463, 5.797),  # Deurne
    "GM0777": (51.570, 4.637),  # Etten-Leur
    "GM0882": (50.896, 6.013),  # Schaesberg
    "GM1659": (51.530, 5.630),  # Beek en Donk
    "GM1690": (52.670, 6.430),  # Zuidwolde (Drenthe)
    "GM0797": (51.695, 5.215),  # Vlijmen (GeoNames places the village Heusden, not the town)
}
